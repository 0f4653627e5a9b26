/* Private memory across fork, for pages both sides had just written (the ones a sandbox may
 * copy at fork rather than share copy-on-write) and for many more of them: each side keeps its
 * own values through writes on both sides in turn; a shared page stays shared; both sides can
 * still write everything they could before. */
#include "check.h"
#include <sys/mman.h>

#define BIG_PAGES 200

static char global[4 * 4096];

static void fill(char *p, size_t n, char c)
{
	memset(p, c, n);
}

/* Whether every byte of p[0..n) is c. */
static int all(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char stackbuf[3 * 4096];
	char *small = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *big = mmap(NULL, BIG_PAGES * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(small != MAP_FAILED && big != MAP_FAILED && shared != MAP_FAILED);
	fill(stackbuf, sizeof stackbuf, 'p');
	fill(global, sizeof global, 'p');
	fill(small, 8 * page, 'p');
	fill(big, BIG_PAGES * page, 'p');
	fill(shared, page, 's');

	int to_parent[2], to_child[2];
	CHECK_OK(pipe(to_parent));
	CHECK_OK(pipe(to_child));
	pid_t c = fork();
	if (c == 0) {
		int bad = 0;
		char ch = 0;
		/* The child starts with the parent's values... */
		if (!all(stackbuf, sizeof stackbuf, 'p') || !all(global, sizeof global, 'p'))
			bad |= 1;
		if (!all(small, 8 * page, 'p') || !all(big, BIG_PAGES * page, 'p'))
			bad |= 2;
		/* ...writes its own... */
		fill(stackbuf, sizeof stackbuf, 'c');
		fill(global, sizeof global, 'c');
		fill(small, 8 * page, 'c');
		fill(big, BIG_PAGES * page, 'c');
		fill(shared, page, 'c');
		if (write(to_parent[1], &ch, 1) != 1 || read(to_child[0], &ch, 1) != 1)
			bad |= 4;
		/* ...and keeps them through the parent's writes, but for the shared page. */
		if (!all(stackbuf, sizeof stackbuf, 'c') || !all(global, sizeof global, 'c'))
			bad |= 8;
		if (!all(small, 8 * page, 'c') || !all(big, BIG_PAGES * page, 'c'))
			bad |= 16;
		if (!all(shared, page, 'P'))
			bad |= 32;
		_exit(bad);
	}
	CHECK(c > 0);
	char ch = 0;
	CHECK(read(to_parent[0], &ch, 1) == 1);
	/* The child's writes left the parent's private pages alone; the shared page changed. */
	CHECK(all(stackbuf, sizeof stackbuf, 'p'));
	CHECK(all(global, sizeof global, 'p'));
	CHECK(all(small, 8 * page, 'p'));
	CHECK(all(big, BIG_PAGES * page, 'p'));
	CHECK(all(shared, page, 'c'));
	/* The parent writes everything again. */
	fill(stackbuf, sizeof stackbuf, 'P');
	fill(global, sizeof global, 'P');
	fill(small, 8 * page, 'P');
	fill(big, BIG_PAGES * page, 'P');
	fill(shared, page, 'P');
	CHECK(write(to_child[1], &ch, 1) == 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr, "child status bits %#x\n", WEXITSTATUS(st));
	CHECK(all(small, 8 * page, 'P') && all(big, BIG_PAGES * page, 'P'));
	CHECK(all(stackbuf, sizeof stackbuf, 'P') && all(global, sizeof global, 'P'));

	/* A second generation: the child of a fork made right after the last one. */
	c = fork();
	if (c == 0)
		_exit(all(small, 8 * page, 'P') && all(big, BIG_PAGES * page, 'P') ? 0 : 1);
	fill(small, 8 * page, 'q');
	CHECK(waitpid(c, &st, 0) == c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(all(small, 8 * page, 'q'));
	DONE();
}

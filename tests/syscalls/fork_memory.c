/* Memory across fork: private memory is copied on write (both sides keep their own), shared
 * anonymous memory is shared, private file mappings are private, MADV_DONTFORK areas are not
 * in the child, MADV_WIPEONFORK areas are zero there, and a big private area is not copied
 * eagerly (the child sees it and can change it independently). */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t big = 64 << 20;
	char *priv = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *dontfork = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *wipe = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(priv != MAP_FAILED && shared != MAP_FAILED && dontfork != MAP_FAILED && wipe != MAP_FAILED);
	for (size_t i = 0; i < big; i += 1 << 20)
		priv[i] = 'p';
	strcpy(shared, "before");
	strcpy(wipe, "secret");
	CHECK_OK(madvise(dontfork, page, MADV_DONTFORK));
	CHECK_OK(madvise(wipe, page, MADV_WIPEONFORK));
	CHECK_ERR(madvise(shared, page, MADV_WIPEONFORK), EINVAL); /* private anonymous only */

	int fd = open("/etc/passwd", O_RDONLY);
	char *file = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(file != MAP_FAILED);
	char first = file[0];

	int p[2];
	CHECK_OK(pipe(p));
	pid_t c = fork();
	if (c == 0) {
		int bad = 0;
		for (size_t i = 0; i < big; i += 1 << 20)
			if (priv[i] != 'p')
				bad |= 1;
		for (size_t i = 0; i < big; i += 1 << 20)
			priv[i] = 'c';
		strcpy(shared, "child");
		file[0] = 'Z';
		if (wipe[0] != 0)
			bad |= 2;
		/* Touching a MADV_DONTFORK area faults: check with mincore-free probing via msync. */
		if (msync(dontfork, page, MS_ASYNC) == 0 || errno != ENOMEM)
			bad |= 4;
		char ch = 0;
		if (write(p[1], &ch, 1) != 1)
			bad |= 8;
		_exit(bad);
	}
	char ch;
	CHECK(read(p[0], &ch, 1) == 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0);
	/* The parent's private memory is untouched by the child's writes... */
	int ok = 1;
	for (size_t i = 0; i < big; i += 1 << 20)
		ok &= priv[i] == 'p';
	CHECK(ok);
	CHECK(file[0] == first);
	CHECK(strcmp(wipe, "secret") == 0);
	/* ... while shared memory carries them. */
	CHECK(strcmp(shared, "child") == 0);

	/* And the child's copy is its own: the parent writes after fork, the child keeps the old. */
	strcpy(priv, "old");
	c = fork();
	if (c == 0) {
		usleep(50000);
		_exit(strcmp(priv, "old") == 0 ? 0 : 1);
	}
	strcpy(priv, "new");
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

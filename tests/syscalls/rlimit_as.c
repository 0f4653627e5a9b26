/* RLIMIT_AS bounds mmap, mremap and brk growth (ENOMEM, or the old break); MAP_FIXED over
 * existing memory does not count twice; RLIMIT_DATA bounds the heap; NO_NEW_PRIVS is
 * inherited. */
#define _GNU_SOURCE
#include "check.h"
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* The limit is far above what the test uses and far below what it asks for, so the result
 * does not depend on the current size of the address space. */
#define LIMIT (512L << 20)
#define HUGE (1L << 30)

static int child(void)
{
	struct rlimit rl = {LIMIT, LIMIT};
	if (setrlimit(RLIMIT_AS, &rl))
		return 1;
	void *big = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big != MAP_FAILED || errno != ENOMEM)
		return 2;
	char *small = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (small == MAP_FAILED)
		return 3;
	/* Replacing it in place with MAP_FIXED is fine. */
	if (mmap(small, 8 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != small)
		return 4;
	/* Growing it past the limit is not. */
	if (mremap(small, 8 << 20, HUGE, MREMAP_MAYMOVE) != MAP_FAILED || errno != ENOMEM)
		return 5;
	/* brk past the limit leaves the break where it was. */
	void *cur = sbrk(0);
	if (sbrk(HUGE) != (void *)-1 || sbrk(0) != cur)
		return 6;
	return 0;
}

static int data_child(void)
{
	struct rlimit rl = {1 << 20, 1 << 20};
	void *cur = sbrk(0);
	if (setrlimit(RLIMIT_DATA, &rl))
		return 1;
	if (sbrk(4 << 20) != (void *)-1 || sbrk(0) != cur)
		return 2;
	return 0;
}

int main(void)
{
	int st;
	pid_t c = fork();
	if (c == 0)
		_exit(child());
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0);
	c = fork();
	if (c == 0)
		_exit(data_child());
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	c = fork();
	if (c == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_ERR(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
	DONE();
}

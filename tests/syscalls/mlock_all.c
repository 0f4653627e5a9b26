/* mlock, mlock2, mlockall, munlockall: flag checks (EINVAL), EPERM with RLIMIT_MEMLOCK 0 and
 * no CAP_IPC_LOCK, ENOMEM past the limit or for an unmapped range, and locked pages are
 * resident (mincore). */
#include "check.h"
#include <sys/mman.h>
#include <sys/resource.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

static int resident(char *p, size_t pages)
{
	unsigned char v[64];
	if (mincore(p, pages * 4096, v) != 0)
		return -1;
	int n = 0;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

int main(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(resident(p, 16) == 0);
	CHECK_OK(mlock(p + 100, 4 * 4096)); /* rounds out to 5 pages */
	CHECK(resident(p, 16) == 5);
	CHECK_OK(munlock(p, 16 * 4096));
	CHECK_OK(syscall(SYS_mlock2, p + 8 * 4096, 4096, MLOCK_ONFAULT));
	CHECK_ERR(syscall(SYS_mlock2, p, 4096, 2), EINVAL);
	CHECK_OK(syscall(SYS_mlock2, p + 10 * 4096, 2 * 4096, 0));
	CHECK(resident(p + 10 * 4096, 2) == 2);
	/* A hole in the range. */
	CHECK_OK(munmap(p + 14 * 4096, 4096));
	CHECK_ERR(mlock(p + 12 * 4096, 4 * 4096), ENOMEM);
	CHECK_ERR(syscall(SYS_mlock2, p + 12 * 4096, 4 * 4096, 0), ENOMEM);

	CHECK_ERR(mlockall(0), EINVAL);
	CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
	CHECK_ERR(mlockall(8), EINVAL);
	CHECK_ERR(mlockall(MCL_CURRENT | 0x100), EINVAL);
	CHECK_OK(munlockall());

	pid_t c = fork();
	if (c == 0) {
		/* Unprivileged: with no RLIMIT_MEMLOCK nothing may be locked; with a small one,
		 * not the whole address space. */
		struct rlimit small = {65536, 65536};
		if (setrlimit(RLIMIT_MEMLOCK, &small) != 0 || setuid(65534) != 0)
			_exit(2);
		if (mlockall(MCL_CURRENT) != -1 || errno != ENOMEM)
			_exit(3);
		if (mlockall(MCL_FUTURE) != 0 || munlockall() != 0)
			_exit(4);
		if (mlock(p, 4096) != 0 || munlock(p, 4096) != 0)
			_exit(5);
		if (mlock(p, 32 * 4096) != -1 || errno != ENOMEM)
			_exit(6);
		struct rlimit none = {0, 0};
		if (setrlimit(RLIMIT_MEMLOCK, &none) != 0)
			_exit(7);
		if (mlock(p, 4096) != -1 || errno != EPERM)
			_exit(8);
		if (syscall(SYS_mlock2, p, 4096, 0) != -1 || errno != EPERM)
			_exit(9);
		if (mlockall(MCL_FUTURE) != -1 || errno != EPERM)
			_exit(10);
		if (munlockall() != 0 || munlock(p, 4096) != 0)
			_exit(11);
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr, "unprivileged child: %d\n", WEXITSTATUS(st));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

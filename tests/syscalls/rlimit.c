#include "check.h"
#include <sys/resource.h>

int main(void)
{
	struct rlimit r, o;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &r));
	CHECK(r.rlim_cur > 3 && r.rlim_cur <= r.rlim_max);
	struct rlimit low = { 10, r.rlim_max };
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &o));
	CHECK(o.rlim_cur == 10);
	/* Descriptors at or above the limit cannot be created. */
	int last = -1, fd;
	while ((fd = open("/etc/passwd", O_RDONLY)) >= 0)
		last = fd;
	CHECK(errno == EMFILE && last == 9);
	CHECK_ERR(dup2(0, 10), EBADF);
	CHECK_ERR(fcntl(0, F_DUPFD, 10), EINVAL);
	struct rlimit bad = { 20, 10 };
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	CHECK_ERR(getrlimit(99, &r), EINVAL);
	CHECK_OK(prlimit(0, RLIMIT_STACK, NULL, &r));
	CHECK(r.rlim_cur >= 128 * 1024);
	struct rlimit core = { 0, 0 };
	CHECK_OK(prlimit(0, RLIMIT_CORE, &core, &o));
	CHECK_OK(getrlimit(RLIMIT_CORE, &r));
	CHECK(r.rlim_cur == 0 && r.rlim_max == 0);
	/* glibc's getrlimit goes through prlimit64, where NULL means "don't report". */
	CHECK_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, NULL), EFAULT);
	CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, NULL));
	DONE();
}

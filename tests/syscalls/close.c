#include "check.h"

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK_OK(close(fd));
	CHECK_ERR(close(fd), EBADF);
	CHECK_ERR(close(-1), EBADF);
	int a = open("/etc/passwd", O_RDONLY);
	int b = dup2(a, 20);
	int c = dup2(a, 21);
	CHECK(b == 20 && c == 21);
	CHECK_OK(syscall(SYS_close_range, 20, 21, 0));
	CHECK_ERR(close(20), EBADF);
	CHECK_ERR(close(21), EBADF);
	CHECK_OK(close(a));
	int d = open("/etc/passwd", O_RDONLY);
	CHECK_OK(syscall(SYS_close_range, d, d, 4 /* CLOSE_RANGE_CLOEXEC */));
	CHECK(fcntl(d, F_GETFD) == FD_CLOEXEC);
	CHECK_ERR(syscall(SYS_close_range, 5, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_close_range, 5, 6, 0x100), EINVAL);
	DONE();
}

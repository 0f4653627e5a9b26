#include "check.h"

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	int d = dup(fd);
	CHECK(d == fd + 1);
	/* Duplicates share the offset. */
	char c;
	CHECK(read(fd, &c, 1) == 1);
	CHECK(lseek(d, 0, SEEK_CUR) == 1);
	CHECK(dup2(fd, fd) == fd);
	CHECK(dup2(fd, 100) == 100);
	CHECK(lseek(100, 0, SEEK_CUR) == 1);
	CHECK(fcntl(100, F_GETFD) == 0);
	CHECK(dup3(fd, 101, O_CLOEXEC) == 101);
	CHECK(fcntl(101, F_GETFD) == FD_CLOEXEC);
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	CHECK_ERR(dup3(fd, 102, 0x1), EINVAL);
	CHECK_ERR(dup(9999), EBADF);
	CHECK_ERR(dup2(9999, 5), EBADF);
	CHECK_ERR(dup2(9999, 9999), EBADF);
	CHECK_ERR(dup2(fd, -1), EBADF);
	/* dup2 onto an open fd closes it first. */
	int other = open("/etc/hostname", O_RDONLY);
	CHECK(dup2(fd, other) == other);
	CHECK(lseek(other, 0, SEEK_CUR) == 1);
	DONE();
}

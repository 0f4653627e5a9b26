#include "check.h"
#include <sys/uio.h>

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	char whole[64], x[10], y[20], z[34];
	CHECK(pread(fd, whole, sizeof whole, 0) == sizeof whole);
	struct iovec iov[3] = { { x, sizeof x }, { y, sizeof y }, { z, sizeof z } };
	CHECK(readv(fd, iov, 3) == 64);
	CHECK(memcmp(x, whole, 10) == 0 && memcmp(y, whole + 10, 20) == 0 && memcmp(z, whole + 30, 34) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 64);
	CHECK(preadv(fd, iov, 3, 0) == 64 && memcmp(x, whole, 10) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 64);
	CHECK_ERR(readv(fd, iov, -1), EINVAL);
	CHECK_ERR(readv(fd, iov, 2000), EINVAL);
	struct iovec bad[1] = { { (void *)1, 10 } };
	CHECK_ERR(readv(fd, bad, 1), EFAULT);
	int null = open("/dev/null", O_WRONLY);
	CHECK(writev(null, iov, 3) == 64);
	CHECK(pwritev(null, iov, 3, 0) == 64);
	CHECK(readv(fd, iov, 0) == 0);
	DONE();
}

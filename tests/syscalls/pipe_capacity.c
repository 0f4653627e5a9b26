#include "check.h"
#include <sys/ioctl.h>

int main(void)
{
	int fds[2];
	CHECK_OK(pipe2(fds, O_NONBLOCK));
	/* Fill the pipe: exactly its capacity goes in. */
	char buf[4096];
	memset(buf, 'a', sizeof buf);
	long total = 0;
	for (;;) {
		ssize_t n = write(fds[1], buf, sizeof buf);
		if (n < 0) {
			CHECK(errno == EAGAIN);
			break;
		}
		total += n;
	}
	CHECK(total == 65536);
	/* The pipe is 16 page-sized slots: reading 100 bytes frees none, so even a small
	 * write does not fit. */
	char small[100];
	CHECK(read(fds[0], small, sizeof small) == 100);
	CHECK_ERR(write(fds[1], buf, 100), EAGAIN);
	/* Emptying the first slot frees it: then one page fits, and a bigger write is cut. */
	CHECK(read(fds[0], buf, 4096 - 100) == 4096 - 100);
	static char big[65536];
	ssize_t n = write(fds[1], big, sizeof big);
	CHECK(n == 4096);
	/* Small writes merge into the last slot while they fit. */
	int m[2];
	CHECK_OK(pipe2(m, O_NONBLOCK));
	for (int i = 0; i < 16; i++)
		CHECK(write(m[1], buf, 10) == 10);
	int avail = 0;
	ioctl(m[0], FIONREAD, &avail);
	CHECK(avail == 160);
	/* F_SETPIPE_SZ rounds up; it cannot shrink below the data held. */
	int r[2];
	CHECK_OK(pipe(r));
	CHECK(fcntl(r[0], F_SETPIPE_SZ, 5000) == 8192);
	CHECK(fcntl(r[1], F_GETPIPE_SZ) == 8192);
	CHECK(fcntl(r[0], F_SETPIPE_SZ, 1 << 20) == 1 << 20);
	CHECK_ERR(fcntl(fds[0], F_SETPIPE_SZ, 4096), EBUSY);
	int f = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(fcntl(f, F_GETPIPE_SZ), EBADF);
	DONE();
}

/* ioctls on regular files and directories: FIONREAD (the size less the offset, as an int:
 * negative past the end), FIGETBSZ (the block size), FIONBIO (O_NONBLOCK), FIOCLEX/FIONCLEX
 * (close-on-exec), ENOTTY for terminal requests, EBADF on O_PATH descriptors. */
#include "check.h"
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
	int fd = shm_tmpfd("ioctl");
	char buf[1000];
	memset(buf, 'a', sizeof buf);
	CHECK(write(fd, buf, sizeof buf) == 1000);

	int n = -1;
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK(n == 0); /* the offset is at the end */
	CHECK(lseek(fd, 300, SEEK_SET) == 300);
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK(n == 700);
	CHECK(lseek(fd, 5000, SEEK_SET) == 5000);
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK(n == -4000); /* past the end: negative (the difference, as an int) */

	int bsz = 0;
	CHECK_OK(ioctl(fd, FIGETBSZ, &bsz));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(bsz == st.st_blksize && bsz > 0);

	/* FIONBIO / FIOASYNC change the status flags. */
	int on = 1, off = 0;
	CHECK_OK(ioctl(fd, FIONBIO, &on));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK_OK(ioctl(fd, FIONBIO, &off));
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	/* FIOCLEX / FIONCLEX. */
	CHECK_OK(ioctl(fd, FIOCLEX));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK_OK(ioctl(fd, FIONCLEX));
	CHECK(fcntl(fd, F_GETFD) == 0);

	/* Terminal requests on a file. */
	struct termios t;
	CHECK_ERR(ioctl(fd, TCGETS, &t), ENOTTY);
	struct winsize ws;
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY);
	CHECK_ERR(ioctl(fd, 0x12345678, 0), ENOTTY);
	errno = 0;
	CHECK(isatty(fd) == 0 && errno == ENOTTY);

	/* Directories: FIONREAD is not theirs; FIOCLEX works on any descriptor. */
	int d = open("/dev/shm", O_RDONLY | O_DIRECTORY);
	CHECK_OK(ioctl(d, FIOCLEX));
	CHECK(fcntl(d, F_GETFD) == FD_CLOEXEC);
	CHECK_ERR(ioctl(d, FIONREAD, &n), ENOTTY);
	/* And O_PATH descriptors take no ioctls. */
	int p = open("/dev/shm", O_PATH);
	CHECK_ERR(ioctl(p, FIOCLEX), EBADF);
	CHECK_ERR(ioctl(-1, FIOCLEX), EBADF);
	DONE();
}

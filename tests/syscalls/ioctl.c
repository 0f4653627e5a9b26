#include "check.h"
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
	int null = open("/dev/null", O_RDWR);
	struct termios t;
	CHECK_ERR(ioctl(null, TCGETS, &t), ENOTTY);
	struct winsize ws;
	CHECK_ERR(ioctl(null, TIOCGWINSZ, &ws), ENOTTY);
	int fd = open("/etc/passwd", O_RDONLY);
	int n = -1;
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	struct stat st;
	fstat(fd, &st);
	CHECK(n == st.st_size);
	char c;
	read(fd, &c, 1);
	CHECK_OK(ioctl(fd, FIONREAD, &n));
	CHECK(n == st.st_size - 1);
	CHECK_OK(ioctl(fd, FIOCLEX));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK_OK(ioctl(fd, FIONCLEX));
	CHECK(fcntl(fd, F_GETFD) == 0);
	int on = 1;
	CHECK_OK(ioctl(fd, FIONBIO, &on));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK_ERR(ioctl(9999, FIONREAD, &n), EBADF);
	CHECK_ERR(ioctl(fd, TCGETS, &t), ENOTTY);
	CHECK(!isatty(fd) && errno == ENOTTY);
	DONE();
}

#include "check.h"

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) == 0);
	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
	int fl = fcntl(fd, F_GETFL);
	CHECK((fl & O_NONBLOCK) && (fl & O_APPEND) && (fl & O_ACCMODE) == O_RDONLY);
	/* F_SETFL cannot change the access mode. */
	CHECK_OK(fcntl(fd, F_SETFL, O_RDWR));
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	int d = fcntl(fd, F_DUPFD, 50);
	CHECK(d == 50);
	CHECK(fcntl(d, F_GETFD) == 0);
	int e = fcntl(fd, F_DUPFD, 50);
	CHECK(e == 51);
	int f = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	CHECK(f > fd && fcntl(f, F_GETFD) == FD_CLOEXEC);
	CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL);
	CHECK_ERR(fcntl(9999, F_GETFD), EBADF);
	/* F_SETFL O_RDWR above cleared O_NONBLOCK; status flags are shared by duplicates,
	 * descriptor flags are not. */
	CHECK(!(fcntl(d, F_GETFL) & O_NONBLOCK));
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
	CHECK(fcntl(d, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(d, F_GETFD) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	int w = open("/dev/null", O_WRONLY);
	CHECK((fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY);
	DONE();
}

#include "check.h"

int main(void)
{
	CHECK_ERR(open("/no/such", O_RDONLY), ENOENT);
	CHECK_ERR(open("/etc/passwd/x", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("/etc", O_WRONLY), EISDIR);
	CHECK_ERR(open("/etc", O_RDWR), EISDIR);
	CHECK_ERR(open("/etc/passwd", O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK_ERR(open("/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	CHECK_ERR(open(NULL, O_RDONLY), EFAULT);
	/* Access mode 3 opens for neither reading nor writing (and needs both permissions). */
	int three = open("/dev/null", 3);
	CHECK(three >= 0);
	char b;
	CHECK_ERR(read(three, &b, 1), EBADF);
	CHECK_ERR(write(three, &b, 1), EBADF);
	CHECK_ERR(openat(9999, "x", O_RDONLY), EBADF);
	int f = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(openat(f, "x", O_RDONLY), ENOTDIR);
	/* openat relative to a directory, and absolute paths ignore dirfd. */
	int d = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	int g = openat(d, "passwd", O_RDONLY);
	CHECK(g >= 0);
	int h = openat(9999, "/etc/passwd", O_RDONLY);
	CHECK(h >= 0);
	/* Lowest free descriptor. */
	close(f);
	int k = open("/etc/passwd", O_RDONLY);
	CHECK(k == f);
	/* O_CLOEXEC is a descriptor flag. */
	int c = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	CHECK(fcntl(c, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(k, F_GETFD) == 0);
	DONE();
}

#include "check.h"

int main(void)
{
	char buf[16];
	int r = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(write(r, "x", 1), EBADF);
	CHECK_ERR(pwrite(r, "x", 1, 0), EBADF);
	int w = open("/dev/null", O_WRONLY);
	CHECK_ERR(read(w, buf, 1), EBADF);
	int d = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK_ERR(read(d, buf, sizeof buf), EISDIR);
	CHECK_ERR(read(9999, buf, 1), EBADF);
	CHECK_ERR(read(-1, buf, 1), EBADF);
	int p = open("/etc/passwd", O_PATH);
	CHECK(p >= 0);
	CHECK_ERR(read(p, buf, 1), EBADF);
	struct stat st;
	CHECK_OK(fstat(p, &st));
	CHECK(S_ISREG(st.st_mode));
	int pd = open("/usr", O_PATH);
	CHECK_OK(fchdir(pd));
	CHECK(access("bin", F_OK) == 0);
	DONE();
}

#include "check.h"

int main(void)
{
	char buf[4096];
	CHECK_OK(chdir("/usr"));
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr") == 0);
	CHECK_OK(chdir("bin"));
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr/bin") == 0);
	CHECK_OK(chdir(".."));
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr") == 0);
	CHECK_OK(chdir("/"));
	CHECK_OK(chdir(".."));
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
	CHECK_ERR(syscall(SYS_getcwd, buf, 1), ERANGE);
	CHECK(syscall(SYS_getcwd, buf, sizeof buf) == 2);
	CHECK_ERR(chdir("/etc/passwd"), ENOTDIR);
	CHECK_ERR(chdir("/nonexistent"), ENOENT);
	int fd = open("/usr/lib", O_RDONLY | O_DIRECTORY);
	CHECK_OK(fchdir(fd));
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr/lib") == 0);
	int f = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(fchdir(f), ENOTDIR);
	CHECK_ERR(fchdir(9999), EBADF);
	/* Relative opens follow the cwd. */
	CHECK_OK(chdir("/etc"));
	CHECK(open("passwd", O_RDONLY) >= 0);
	DONE();
}

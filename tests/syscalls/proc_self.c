#include "check.h"
#include <limits.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	(void)argc;
	char exe[PATH_MAX], real[PATH_MAX], self[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(n > 0);
	exe[n > 0 ? n : 0] = 0;
	CHECK(realpath(argv[0], real) && strcmp(exe, real) == 0);
	n = readlink("/proc/self", self, sizeof self - 1);
	CHECK(n > 0);
	self[n > 0 ? n : 0] = 0;
	CHECK(atoi(self) == getpid());
	char buf[64];
	snprintf(buf, sizeof buf, "/proc/%d/exe", getpid());
	CHECK(readlink(buf, real, sizeof real) == (ssize_t)strlen(exe));
	/* A child sees its own pid, and the exe it inherited. */
	pid_t p = fork();
	if (p == 0) {
		char s[64];
		ssize_t m = readlink("/proc/self", s, sizeof s - 1);
		s[m > 0 ? m : 0] = 0;
		_exit(atoi(s) == getpid() ? 0 : 1);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 0);
	struct stat sb;
	CHECK_OK(stat("/proc/self/exe", &sb));
	CHECK(S_ISREG(sb.st_mode));
	CHECK_ERR(readlink("/proc/999999/exe", buf, sizeof buf), ENOENT);
	DONE();
}

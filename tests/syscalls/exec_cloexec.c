#include "check.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* After exec: fd 10 stays open, fd 11 was close-on-exec. */
		int ok = fcntl(10, F_GETFD) == 0 && fcntl(11, F_GETFD) == -1 && errno == EBADF;
		return ok ? 0 : 1;
	}
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(dup2(fd, 10) == 10);
	CHECK(dup3(fd, 11, O_CLOEXEC) == 11);
	pid_t p = fork();
	if (p == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		execl(argv[0], argv[0], "child", (char *)NULL);
		_exit(99);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

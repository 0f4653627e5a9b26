#include "check.h"
#include <sys/wait.h>

int main(void)
{
	int fds[2];
	CHECK_OK(pipe(fds));
	pid_t p = fork();
	if (p == 0) {
		dup2(fds[1], 1);
		char *args[] = { "/bin/sh", "-c", "echo $((6*7)); exit 5", NULL };
		execv("/bin/sh", args);
		_exit(99);
	}
	close(fds[1]);
	char buf[16] = { 0 };
	CHECK(read(fds[0], buf, sizeof buf) == 3 && strcmp(buf, "42\n") == 0);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 5);
	DONE();
}

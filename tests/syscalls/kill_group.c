#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	/* Two children in a new process group; killpg reaches both, not us. */
	int fds[2];
	pipe(fds);
	pid_t a = fork();
	if (a == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, a);
		for (;;)
			pause();
	}
	setpgid(b, a);
	CHECK(getpgid(b) == a);
	CHECK_OK(killpg(a, SIGTERM));
	int st;
	CHECK(waitpid(a, &st, 0) == a && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(waitpid(b, &st, 0) == b && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK_ERR(killpg(a, SIGTERM), ESRCH);
	/* waitpid(-pgid) waits for that group only. */
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		_exit(4);
	}
	setpgid(c, c);
	CHECK(waitpid(-c, &st, 0) == c && WEXITSTATUS(st) == 4);
	DONE();
}

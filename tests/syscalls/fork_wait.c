#include "check.h"
#include <sys/wait.h>

int main(void)
{
	int g = 1;
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		g = 2;
		_exit(g == 2 ? 42 : 1);
	}
	int st = 0;
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	CHECK(g == 1);
	CHECK_ERR(waitpid(p, &st, 0), ECHILD);
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
	CHECK_ERR(waitpid(-1, &st, 0x800 /* unknown option */), EINVAL);
	CHECK_ERR(waitpid(-1, &st, WNOWAIT /* waitid only */), EINVAL);
	/* WNOHANG with a running child returns 0. */
	int fds[2];
	CHECK_OK(pipe(fds));
	p = fork();
	if (p == 0) {
		char c;
		read(fds[0], &c, 1);
		_exit(0);
	}
	CHECK(waitpid(p, &st, WNOHANG) == 0);
	CHECK(write(fds[1], "x", 1) == 1);
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Several children, reaped by -1 in any order. */
	int seen = 0;
	for (int i = 0; i < 5; i++)
		if (fork() == 0)
			_exit(i);
	for (int i = 0; i < 5; i++) {
		CHECK(wait(&st) > 0 && WIFEXITED(st));
		seen |= 1 << WEXITSTATUS(st);
	}
	CHECK(seen == 0x1f);
	DONE();
}

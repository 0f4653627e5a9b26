#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int st;
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	CHECK_OK(kill(p, SIGSTOP));
	CHECK(waitpid(p, &st, WUNTRACED) == p);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	/* Reported once. */
	CHECK(waitpid(p, &st, WUNTRACED | WNOHANG) == 0);
	CHECK_OK(kill(p, SIGCONT));
	CHECK(waitpid(p, &st, WCONTINUED) == p);
	CHECK(WIFCONTINUED(st));
	CHECK_OK(kill(p, SIGTERM));
	CHECK(waitpid(p, &st, 0) == p && WIFSIGNALED(st));
	DONE();
}

#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int st;
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	CHECK_OK(kill(p, SIGTERM));
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && !WCOREDUMP(st));
	p = fork();
	if (p == 0) {
		*(volatile int *)8 = 1;
		_exit(0);
	}
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	p = fork();
	if (p == 0)
		abort();
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	CHECK_OK(kill(p, SIGKILL));
	CHECK(waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	DONE();
}

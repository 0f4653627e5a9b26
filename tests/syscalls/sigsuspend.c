#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static volatile int got;
static void h(int sig) { got = sig; }

int main(void)
{
	signal(SIGUSR1, h);
	sigset_t block, old, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t parent = getpid();
	pid_t p = fork();
	if (p == 0) {
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigemptyset(&wait_mask);
	CHECK_ERR(sigsuspend(&wait_mask), EINTR);
	CHECK(got == SIGUSR1);
	/* The old mask (with SIGUSR1 blocked) is back. */
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1));
	waitpid(p, NULL, 0);
	/* sigtimedwait takes a blocked signal without running the handler. */
	got = 0;
	kill(getpid(), SIGUSR1);
	siginfo_t si;
	struct timespec ts = { 1, 0 };
	CHECK(sigtimedwait(&block, &si, &ts) == SIGUSR1 && si.si_signo == SIGUSR1 && got == 0);
	struct timespec short_ts = { 0, 20000000 };
	CHECK_ERR(sigtimedwait(&block, &si, &short_ts), EAGAIN);
	CHECK(sigwaitinfo != NULL);
	DONE();
}

#include "check.h"
#include <signal.h>

static volatile int hits, last_sig, last_code, last_pid;
static void h(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(hits == 1 && last_sig == SIGUSR1 && last_code == SI_USER && last_pid == getpid());
	CHECK_OK(raise(SIGUSR1));
	CHECK(hits == 2 && last_code == SI_TKILL);
	union sigval v = { .sival_int = 77 };
	CHECK_OK(sigqueue(getpid(), SIGUSR1, v));
	CHECK(hits == 3 && last_code == SI_QUEUE);
	/* Blocked: pending until unblocked, then delivered once. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	CHECK(hits == 3);
	sigset_t p;
	sigpending(&p);
	CHECK(sigismember(&p, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	CHECK(hits == 4);
	/* Real-time signals queue every instance, in order. */
	sigaddset(&s, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &s, NULL);
	CHECK_OK(sigaction(SIGRTMIN, &sa, NULL));
	for (int i = 0; i < 3; i++)
		kill(getpid(), SIGRTMIN);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	CHECK(hits == 7 && last_sig == SIGRTMIN);
	DONE();
}

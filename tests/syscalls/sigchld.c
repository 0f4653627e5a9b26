#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static volatile int chld, chld_pid, chld_status;
static void h(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	chld++;
	chld_pid = si->si_pid;
	chld_status = si->si_status;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t p = fork();
	if (p == 0)
		_exit(12);
	while (!chld)
		usleep(1000);
	CHECK(chld_pid == p && chld_status == 12);
	CHECK(waitpid(p, NULL, 0) == p);
	/* SIGCHLD ignored: children are reaped automatically. */
	signal(SIGCHLD, SIG_IGN);
	p = fork();
	if (p == 0)
		_exit(0);
	usleep(50000);
	CHECK_ERR(waitpid(p, NULL, 0), ECHILD);
	DONE();
}

/* SIGCHLD: its siginfo, SA_NOCLDSTOP, SA_NOCLDWAIT and SIG_IGN (children reaped at once). */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static volatile int got;
static volatile siginfo_t last;

static void on_chld(int s, siginfo_t *si, void *u)
{
	(void)s;
	(void)u;
	got++;
	last = *si;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));

	/* Exit: CLD_EXITED with the status, the child's pid and uid. */
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	while (!got)
		usleep(1000);
	CHECK(last.si_signo == SIGCHLD && last.si_code == CLD_EXITED);
	CHECK(last.si_pid == c && last.si_status == 7 && last.si_uid == getuid());
	CHECK(waitpid(c, NULL, 0) == c);

	/* Killed: CLD_KILLED with the signal. */
	got = 0;
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	usleep(20000);
	CHECK_OK(kill(c, SIGTERM));
	while (!got)
		usleep(1000);
	CHECK(last.si_code == CLD_KILLED && last.si_status == SIGTERM);
	CHECK(waitpid(c, NULL, 0) == c);

	/* Stopped and continued: CLD_STOPPED / CLD_CONTINUED; none with SA_NOCLDSTOP. */
	got = 0;
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	usleep(20000);
	CHECK_OK(kill(c, SIGSTOP));
	while (!got)
		usleep(1000);
	CHECK(last.si_code == CLD_STOPPED && last.si_status == SIGSTOP);
	got = 0;
	CHECK_OK(kill(c, SIGCONT));
	while (!got)
		usleep(1000);
	CHECK(last.si_code == CLD_CONTINUED && last.si_status == SIGCONT);
	sa.sa_flags |= SA_NOCLDSTOP;
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
	got = 0;
	CHECK_OK(kill(c, SIGSTOP));
	int st;
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st));
	CHECK_OK(kill(c, SIGCONT));
	CHECK(waitpid(c, &st, WCONTINUED) == c && WIFCONTINUED(st));
	usleep(20000);
	CHECK(got == 0);
	CHECK_OK(kill(c, SIGKILL));
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st));

	/* SA_NOCLDWAIT: no zombie; wait finds no child (ECHILD) once it is gone. */
	sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
	c = fork();
	if (c == 0)
		_exit(0);
	CHECK_ERR(waitpid(c, NULL, 0), ECHILD);
	CHECK_ERR(kill(c, 0), ESRCH);

	/* SIG_IGN: likewise, and no signal. */
	signal(SIGCHLD, SIG_IGN);
	c = fork();
	if (c == 0)
		_exit(0);
	CHECK_ERR(wait(NULL), ECHILD);
	DONE();
}

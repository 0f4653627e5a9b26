#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	/* WNOWAIT leaves the zombie. */
	CHECK_OK(waitid(P_PID, p, &si, WEXITED | WNOWAIT));
	CHECK(si.si_pid == p && si.si_code == CLD_EXITED && si.si_status == 9 && si.si_signo == SIGCHLD);
	memset(&si, 0, sizeof si);
	CHECK_OK(waitid(P_ALL, 0, &si, WEXITED));
	CHECK(si.si_pid == p && si.si_status == 9);
	CHECK_ERR(waitid(P_PID, p, &si, WEXITED), ECHILD);
	CHECK_ERR(waitid(P_PID, p, &si, 0), EINVAL);
	CHECK_ERR(waitid(42, 0, &si, WEXITED), EINVAL);
	/* WNOHANG with nothing to report zeroes si_pid. */
	int fds[2];
	pipe(fds);
	p = fork();
	if (p == 0) {
		char c;
		read(fds[0], &c, 1);
		_exit(0);
	}
	si.si_pid = 123;
	CHECK_OK(waitid(P_PID, p, &si, WEXITED | WNOHANG));
	CHECK(si.si_pid == 0);
	write(fds[1], "x", 1);
	CHECK_OK(waitid(P_PID, p, &si, WEXITED));
	DONE();
}

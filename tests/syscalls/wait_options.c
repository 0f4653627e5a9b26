/* wait4/waitid options: WNOHANG, WUNTRACED/WSTOPPED, WCONTINUED, WNOWAIT, __WCLONE/__WALL for
 * children with no exit signal, P_PGID, P_PIDFD, and the errors. */
#define _GNU_SOURCE
#include "check.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static char stack[65536];

static int quiet_child(void *a)
{
	(void)a;
	return 5;
}

int main(void)
{
	int st;
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
	CHECK_ERR(waitpid(-1, &st, 0x1000 /* unknown */), EINVAL);
	siginfo_t si;
	CHECK_ERR(waitid(P_ALL, 0, &si, 0), EINVAL); /* no WEXITED/WSTOPPED/WCONTINUED */
	CHECK_ERR(waitid(7, 0, &si, WEXITED), EINVAL);

	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	CHECK(waitpid(c, &st, WNOHANG) == 0);
	memset(&si, 0xff, sizeof si);
	CHECK(waitid(P_PID, c, &si, WEXITED | WNOHANG) == 0);
	CHECK(si.si_pid == 0);

	/* Stop: reported once to WUNTRACED (WSTOPPED for waitid). */
	CHECK_OK(kill(c, SIGSTOP));
	CHECK(waitid(P_PID, c, &si, WSTOPPED | WNOWAIT) == 0);
	CHECK(si.si_code == CLD_STOPPED && si.si_status == SIGSTOP && si.si_pid == c);
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	CHECK(waitpid(c, &st, WUNTRACED | WNOHANG) == 0);
	/* Continue: reported once to WCONTINUED. */
	CHECK_OK(kill(c, SIGCONT));
	CHECK(waitid(P_PID, c, &si, WCONTINUED) == 0 && si.si_code == CLD_CONTINUED);
	CHECK(waitpid(c, &st, WCONTINUED | WNOHANG) == 0);

	/* Exit: WNOWAIT leaves the zombie to be reaped again. */
	CHECK_OK(kill(c, SIGTERM));
	CHECK(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGTERM);
	CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == c);
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK_ERR(waitpid(c, &st, 0), ECHILD);

	/* A child with no exit signal is a "clone" child: only __WCLONE or __WALL see it. */
	c = clone(quiet_child, stack + sizeof stack, 0, NULL);
	CHECK(c > 0);
	usleep(50000);
	CHECK_ERR(waitpid(c, &st, WNOHANG), ECHILD);
	CHECK(waitpid(c, &st, __WCLONE) == c && WIFEXITED(st) && WEXITSTATUS(st) == 5);
	c = clone(quiet_child, stack + sizeof stack, 0, NULL);
	CHECK(waitpid(-1, &st, __WALL) == c);
	/* ... and __WCLONE does not see ordinary children. */
	c = fork();
	if (c == 0)
		_exit(1);
	usleep(50000);
	CHECK_ERR(waitpid(c, &st, __WCLONE | WNOHANG), ECHILD);
	CHECK(waitpid(c, &st, 0) == c);

	/* By process group. */
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		_exit(3);
	}
	setpgid(c, c);
	CHECK(waitid(P_PGID, c, &si, WEXITED) == 0 && si.si_pid == c && si.si_status == 3);
	CHECK_ERR(waitid(P_PGID, c, &si, WEXITED), ECHILD);

	/* By pidfd. */
	c = fork();
	if (c == 0)
		_exit(4);
	int fd = syscall(SYS_pidfd_open, c, 0);
	CHECK(fd >= 0);
	CHECK(waitid(P_PIDFD, fd, &si, WEXITED) == 0 && si.si_pid == c && si.si_status == 4);
	CHECK_ERR(waitid(P_PIDFD, fd, &si, WEXITED), ECHILD);
	CHECK_ERR(waitid(P_PIDFD, 1000, &si, WEXITED), EBADF);
	close(fd);

	/* A bad status pointer is EFAULT, and the child is reaped all the same. */
	c = fork();
	if (c == 0)
		_exit(0);
	usleep(50000);
	CHECK_ERR(waitpid(c, (int *)1, 0), EFAULT);
	CHECK_ERR(waitpid(c, &st, 0), ECHILD);
	DONE();
}

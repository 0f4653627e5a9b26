/* kill's rules: signal 0 checks existence and permission; another user's process is EPERM
 * unless the sender's real or effective uid matches its real or saved uid; ESRCH for no such
 * process; EINVAL for a bad signal; kill(-1) reaches every process the sender may signal but
 * itself (and init). */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

/* Users no host process runs as, so that kill(-1) in the native run reaches only ours. */
#define U1 54321
#define U2 54322

static pid_t spawn_sleeper(uid_t uid)
{
	pid_t c = fork();
	if (c == 0) {
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(100);
		for (;;)
			pause();
	}
	usleep(30000);
	return c;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "needs root\n");
		return 1;
	}
	CHECK_OK(kill(getpid(), 0));
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	CHECK_ERR(kill(getpid(), -1), EINVAL);
	CHECK_ERR(kill(4000000, 0), ESRCH);
	CHECK_ERR(kill(-4000000, SIGTERM), ESRCH);

	pid_t rootc = spawn_sleeper(0);
	pid_t nob1 = spawn_sleeper(U1);
	pid_t nob2 = spawn_sleeper(U1);

	pid_t t = fork();
	if (t == 0) {
		if (setgid(U1) || setuid(U1))
			_exit(100);
		int bad = 0;
		/* Another user's process. */
		if (kill(rootc, 0) != -1 || errno != EPERM)
			bad |= 1;
		if (kill(rootc, SIGTERM) != -1 || errno != EPERM)
			bad |= 2;
		/* Same user. */
		if (kill(nob1, 0) != 0)
			bad |= 4;
		/* kill(-1): everyone we may signal (nob1, nob2), not ourselves; success. */
		signal(SIGUSR1, SIG_IGN);
		if (kill(-1, SIGUSR1) != 0)
			bad |= 8;
		_exit(bad);
	}
	int st;
	CHECK(waitpid(t, &st, 0) == t && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* nob1 and nob2 died of SIGUSR1; the root-owned child did not. */
	CHECK(waitpid(nob1, &st, 0) == nob1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
	CHECK(waitpid(nob2, &st, 0) == nob2 && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
	CHECK(waitpid(rootc, &st, WNOHANG) == 0);

	/* With nothing it may signal, kill(-1) still succeeds: Linux counts every process it
	 * tried, and EPERM does not count as an error there (ESRCH only when there are none). */
	t = fork();
	if (t == 0) {
		if (setgid(U2) || setuid(U2))
			_exit(100);
		_exit(kill(-1, SIGUSR1) == 0 ? 0 : 1);
	}
	CHECK(waitpid(t, &st, 0) == t && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	CHECK(waitpid(rootc, &st, WNOHANG) == 0);

	/* tgkill/tkill errors. */
	CHECK_ERR(syscall(SYS_tgkill, getpid(), 4000000, 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, rootc, getpid(), 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, 0, getpid(), 0), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, -1, 0), EINVAL);
	CHECK_OK(syscall(SYS_tkill, getpid(), 0));

	kill(rootc, SIGKILL);
	CHECK(waitpid(rootc, &st, 0) == rootc && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	DONE();
}

/* PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented to the nearest subreaper
 * (not to init), which can wait for them. The subreaper is a child of the test's first
 * process, so that it is never pid 1 (which in the sandbox is init). */
#include "check.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int subreaper(void)
{
	int v = -1;
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
	CHECK(v == 0);
	CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
	CHECK(v == 1);

	pid_t me = getpid();
	int p[2];
	CHECK_OK(pipe(p));
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(p[1]);
			/* Wait until the middle process is gone, then report our parent. */
			if (read(p[0], &c, 1) != 1)
				_exit(90);
			_exit(getppid() == me ? 0 : 1);
		}
		_exit(0);
	}
	int st;
	CHECK(waitpid(mid, &st, 0) == mid && WIFEXITED(st));
	/* The grandchild is ours now: wake it and reap it. */
	CHECK_OK(write(p[1], "x", 1));
	siginfo_t si;
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0);
	CHECK(si.si_pid != mid && si.si_code == CLD_EXITED && si.si_status == 0);
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);

	/* Not inherited by children across fork. */
	pid_t c = fork();
	if (c == 0) {
		int w = -1;
		prctl(PR_GET_CHILD_SUBREAPER, &w);
		_exit(w);
	}
	CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
	CHECK_ERR(prctl(PR_GET_CHILD_SUBREAPER, (int *)1), EFAULT);
	return failures;
}

int main(void)
{
	pid_t s = fork();
	if (s == 0)
		_exit(subreaper());
	int st;
	CHECK(waitpid(s, &st, 0) == s && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

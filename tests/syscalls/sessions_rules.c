/* setsid/setpgid rules: a group leader cannot setsid (EPERM); setpgid only for oneself or a
 * child in the same session (ESRCH otherwise), not after the child's execve (EACCES), never
 * into another session's group (EPERM), and not for a session leader (EPERM). */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* Re-executed child: wait to be killed. */
		pause();
		return 0;
	}
	/* Work in a child that leads its own group (the test itself may lead one). */
	pid_t top = fork();
	if (top == 0) {
		CHECK_OK(setpgid(0, 0));
		CHECK(getpgrp() == getpid());
		CHECK_ERR(setsid(), EPERM);
		CHECK_ERR(setpgid(0, -1), EINVAL);
		CHECK_ERR(setpgid(1, 0), ESRCH); /* not our child */
		CHECK_ERR(setpgid(4000000, 0), ESRCH);

		/* A child: we may move it into a new group of its own, or into ours. */
		pid_t c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		CHECK_OK(setpgid(c, c));
		CHECK(getpgid(c) == c);
		CHECK_OK(setpgid(c, getpgrp()));
		CHECK(getpgid(c) == getpgrp());
		/* A group that does not exist in our session. */
		CHECK_ERR(setpgid(c, 4000000), EPERM);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);

		/* A child that made its own session: EPERM for us (and for itself as leader). */
		int pp[2];
		pipe(pp);
		c = fork();
		if (c == 0) {
			setsid();
			int r = setpgid(0, 0) == -1 && errno == EPERM;
			if (write(pp[1], &r, sizeof r) != sizeof r)
				_exit(1);
			pause();
			_exit(0);
		}
		int r = 0;
		CHECK(read(pp[0], &r, sizeof r) == sizeof r && r == 1);
		CHECK(getsid(c) == c);
		CHECK_ERR(setpgid(c, c), EPERM);
		CHECK_ERR(setpgid(c, getpgrp()), EPERM);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);

		/* After the child's execve: EACCES. */
		c = fork();
		if (c == 0) {
			execl("/proc/self/exe", "sessions_rules", "child", NULL);
			_exit(127);
		}
		usleep(200000);
		CHECK_ERR(setpgid(c, c), EACCES);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);

		/* getsid/getpgid of a process in another session still works. */
		CHECK(getsid(1) >= 0 || errno == EPERM);
		CHECK_ERR(getpgid(4000000), ESRCH);
		CHECK_ERR(getsid(4000000), ESRCH);
		_exit(failures ? 1 : 0);
	}
	int st;
	CHECK(waitpid(top, &st, 0) == top && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

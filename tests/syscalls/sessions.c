#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static pid_t waiting_child(int fd, int (*body)(void))
{
	pid_t p = fork();
	if (p == 0) {
		char c;
		read(fd, &c, 1);
		_exit(body());
	}
	return p;
}

static int new_session(void)
{
	/* A new session: leader of its group and session. */
	pid_t s = setsid();
	int ok = s == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
	ok &= setsid() == -1 && errno == EPERM; /* already a group leader */
	return ok ? 0 : 1;
}

static int in_own_group(void)
{
	int ok = getpgrp() == getpid();
	ok &= setsid() == -1 && errno == EPERM; /* a group leader cannot start a session */
	return ok ? 0 : 1;
}

int main(void)
{
	CHECK(getpgid(0) == getpgrp());
	int fds[2];
	pipe(fds);
	int st;
	pid_t a = waiting_child(fds[0], new_session);
	pid_t b = waiting_child(fds[0], in_own_group);
	/* The parent puts b in its own group before it runs. */
	CHECK_OK(setpgid(b, b));
	CHECK(getpgid(b) == b);
	CHECK(getsid(b) == getsid(0));
	CHECK(getpgid(a) == getpgrp());
	CHECK_ERR(setpgid(b, 999999), EPERM);
	CHECK_ERR(setpgid(999999, 0), ESRCH);
	CHECK_ERR(setpgid(0, -1), EINVAL);
	CHECK(write(fds[1], "xx", 2) == 2);
	CHECK(waitpid(a, &st, 0) == a && WEXITSTATUS(st) == 0);
	CHECK(waitpid(b, &st, 0) == b && WEXITSTATUS(st) == 0);
	CHECK_ERR(kill(-999999, 0), ESRCH);
	CHECK_ERR(kill(999999, 0), ESRCH);
	CHECK_OK(kill(0, 0));
	DONE();
}

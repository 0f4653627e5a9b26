/* ioprio_set and ioprio_get (what ionice uses): per-thread I/O priorities, inherited by
 * fork; the raw value for IOPRIO_WHO_PROCESS (0 until set), the best effective value over a
 * process group or a user's threads (an unset priority follows the nice value); EINVAL for
 * bad classes, levels and `which`, EPERM for the real-time class or another user's process
 * without privilege, ESRCH when nothing matches. */
#include "check.h"
#include <sys/resource.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define WHO_USER 3
#define PRIO(class, data) (((class) << 13) | (data))
#define NONE 0
#define RT 1
#define BE 2
#define IDLE 3

static long get(int which, int who)
{
	return syscall(SYS_ioprio_get, which, who);
}

static long set(int which, int who, int prio)
{
	return syscall(SYS_ioprio_set, which, who, prio);
}

int main(void)
{
	/* A process group of our own (a session leader has one already). */
	if (setpgid(0, 0) != 0)
		CHECK(errno == EPERM && getsid(0) == getpid());
	CHECK(getpgid(0) == getpid());
	/* Nothing set yet: the raw value is 0 (class none). */
	CHECK(get(WHO_PROCESS, 0) == 0);
	CHECK(get(WHO_PROCESS, getpid()) == 0);
	/* Over a group, an unset priority is best effort at (nice + 20) / 5. */
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 10));
	CHECK(get(WHO_PGRP, 0) == PRIO(BE, 6));
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 0));
	CHECK(get(WHO_PGRP, 0) == PRIO(BE, 4));

	CHECK_OK(set(WHO_PROCESS, 0, PRIO(BE, 6)));
	CHECK(get(WHO_PROCESS, 0) == PRIO(BE, 6));
	CHECK(get(WHO_PGRP, getpgid(0)) == PRIO(BE, 6));
	CHECK(get(WHO_USER, getuid()) <= PRIO(BE, 6));
	CHECK_OK(set(WHO_PROCESS, getpid(), PRIO(IDLE, 0)));
	CHECK(get(WHO_PROCESS, 0) == PRIO(IDLE, 0));
	CHECK_OK(set(WHO_PROCESS, 0, PRIO(RT, 3)));
	CHECK(get(WHO_PROCESS, 0) == PRIO(RT, 3));
	CHECK_OK(set(WHO_PGRP, 0, PRIO(BE, 2)));
	CHECK(get(WHO_PROCESS, 0) == PRIO(BE, 2));
	CHECK_OK(set(WHO_PROCESS, 0, PRIO(NONE, 0)));
	CHECK(get(WHO_PROCESS, 0) == 0);

	/* The data field is a level (3 bits) and hints above it: kept as given. */
	CHECK_OK(set(WHO_PROCESS, 0, PRIO(BE, 8 | 3)));
	CHECK(get(WHO_PROCESS, 0) == PRIO(BE, 8 | 3));
	/* Bad values. */
	CHECK_ERR(set(WHO_PROCESS, 0, PRIO(NONE, 1)), EINVAL);
	CHECK_ERR(set(WHO_PROCESS, 0, PRIO(4, 0)), EINVAL);
	CHECK_ERR(set(WHO_PROCESS, 0, PRIO(7, 0)), EINVAL);
	CHECK_ERR(set(0, 0, PRIO(BE, 1)), EINVAL);
	CHECK_ERR(set(4, 0, PRIO(BE, 1)), EINVAL);
	CHECK_ERR(get(0, 0), EINVAL);
	CHECK_ERR(get(4, 0), EINVAL);
	/* No such process or group. */
	CHECK_ERR(set(WHO_PROCESS, 999999, PRIO(BE, 1)), ESRCH);
	CHECK_ERR(get(WHO_PROCESS, 999999), ESRCH);
	CHECK_ERR(get(WHO_PGRP, 999999), ESRCH);
	CHECK_ERR(set(WHO_PGRP, 999999, PRIO(BE, 1)), ESRCH);

	/* Inherited by fork; the child's own changes stay its own. */
	CHECK_OK(set(WHO_PROCESS, 0, PRIO(BE, 5)));
	int go[2];
	CHECK_OK(pipe(go));
	pid_t c = fork();
	if (c == 0) {
		if (get(WHO_PROCESS, 0) != PRIO(BE, 5))
			_exit(2);
		if (set(WHO_PROCESS, 0, PRIO(BE, 1)) != 0)
			_exit(3);
		char b;
		close(go[1]);
		read(go[0], &b, 1);
		_exit(0);
	}
	usleep(100000);
	CHECK(get(WHO_PROCESS, 0) == PRIO(BE, 5));
	CHECK(get(WHO_PROCESS, c) == PRIO(BE, 1));
	close(go[1]);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* Unprivileged: no real-time class, no other user's processes. */
	c = fork();
	if (c == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		if (set(WHO_PROCESS, 0, PRIO(RT, 0)) != -1 || errno != EPERM)
			_exit(3);
		if (set(WHO_PROCESS, 0, PRIO(BE, 7)) != 0 || get(WHO_PROCESS, 0) != PRIO(BE, 7))
			_exit(4);
		if (set(WHO_PROCESS, getppid(), PRIO(BE, 7)) != -1 || errno != EPERM)
			_exit(5);
		/* Reading another user's priority needs nothing. */
		if (get(WHO_PROCESS, getppid()) != PRIO(BE, 5))
			_exit(6);
		_exit(0);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

#include "check.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/sched.h>

static volatile int shared;
static int child_fn(void *arg)
{
	shared = *(int *)arg;
	return 7;
}

int main(void)
{
	char *stack = malloc(65536);
	int v = 31;
	/* CLONE_VM shares memory; CLONE_PARENT_SETTID reports the tid. */
	pid_t ptid = 0;
	pid_t p = clone(child_fn, stack + 65536, CLONE_VM | CLONE_PARENT_SETTID | SIGCHLD, &v, &ptid);
	CHECK(p > 0);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 7);
	CHECK(shared == 31 && ptid == p);
	/* Without CLONE_VM the child's writes stay in the child. */
	shared = 0;
	v = 5;
	p = clone(child_fn, stack + 65536, SIGCHLD, &v);
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 7);
	CHECK(shared == 0);
	/* Invalid combinations. */
	CHECK_ERR(syscall(SYS_clone, CLONE_THREAD, 0, 0, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
	/* clone3 works like fork; a bad size is EINVAL. */
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	long r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0)
		_exit(8);
	CHECK(r > 0 && waitpid(r, &st, 0) == r && WEXITSTATUS(st) == 8);
	CHECK_ERR(syscall(SYS_clone3, &ca, 8), EINVAL);
	DONE();
}

/* clone3: argument checks, exit_signal, CLONE_PIDFD, CLONE_PARENT_SETTID/CHILD_SETTID, a
 * thread with its own stack, and CLONE_VFORK. */
#define _GNU_SOURCE
#include "check.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static long clone3(struct clone_args *a, size_t size)
{
	return syscall(SYS_clone3, a, size);
}

int main(void)
{
	struct clone_args a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	/* Sizes below the first version, or above a page, are refused. */
	CHECK_ERR(clone3(&a, 63), EINVAL);
	CHECK_ERR(clone3(&a, 8192), E2BIG);
	CHECK_ERR(clone3((struct clone_args *)1, sizeof a), EFAULT);
	/* exit_signal must be a valid signal, and not set for threads. */
	a.exit_signal = 65;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	a.flags = 1ULL << 40;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	/* A stack size without a stack, or the reverse. */
	a.flags = 0;
	a.stack_size = 4096;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	a.stack_size = 0;
	/* Bytes past the known struct must be zero. */
	struct {
		struct clone_args a;
		uint64_t extra;
	} big;
	memset(&big, 0, sizeof big);
	big.a.exit_signal = SIGCHLD;
	big.extra = 1;
	CHECK_ERR(clone3(&big.a, sizeof big), E2BIG);

	/* fork-like, with a pidfd and the tid written for parent and child. */
	int pidfd = -1;
	pid_t ptid = 0, ctid = 0;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID;
	a.pidfd = (uintptr_t)&pidfd;
	a.parent_tid = (uintptr_t)&ptid;
	a.child_tid = (uintptr_t)&ctid;
	a.exit_signal = SIGCHLD;
	long c = clone3(&a, sizeof a);
	if (c == 0)
		_exit(ctid == getpid() ? 5 : 6);
	CHECK(c > 0);
	CHECK(ptid == c && pidfd >= 0);
	siginfo_t si;
	CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED) == 0 && si.si_status == 5);
	close(pidfd);

	/* Exit signal SIGUSR1 instead of SIGCHLD: a "clone" child for wait. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGUSR1;
	c = clone3(&a, sizeof a);
	if (c == 0)
		_exit(0);
	int st;
	CHECK(waitpid(c, &st, __WALL) == c);
	struct timespec z = {1, 0};
	CHECK(sigtimedwait(&m, &si, &z) == SIGUSR1 && si.si_pid == c);

	/* CLONE_VFORK: the parent resumes only once the child exits. */
	struct timespec t0, t1;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_VFORK;
	a.exit_signal = SIGCHLD;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = clone3(&a, sizeof a);
	if (c == 0) {
		usleep(100000);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 90);
	CHECK(waitpid(c, &st, 0) == c);

	/* CLONE_CLEAR_SIGHAND: handlers reset in the child, ignored signals stay ignored. */
	signal(SIGUSR2, SIG_IGN);
	signal(SIGHUP, (void (*)(int))1234);
	memset(&a, 0, sizeof a);
	a.flags = 0x100000000ULL;
	a.exit_signal = SIGCHLD;
	c = clone3(&a, sizeof a);
	if (c == 0) {
		struct sigaction o1, o2;
		sigaction(SIGUSR2, NULL, &o1);
		sigaction(SIGHUP, NULL, &o2);
		_exit(o1.sa_handler == SIG_IGN && o2.sa_handler == SIG_DFL ? 0 : 1);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	a.flags |= CLONE_SIGHAND | CLONE_VM;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	signal(SIGHUP, SIG_DFL);

	/* set_tid: a chosen pid (root may), EEXIST if taken. */
	/* A pid below pid_max (32768 on many hosts). */
	long pid_max = 32768;
	FILE *pm = fopen("/proc/sys/kernel/pid_max", "r");
	if (pm) {
		if (fscanf(pm, "%ld", &pid_max) != 1)
			pid_max = 32768;
		fclose(pm);
	}
	pid_t want = 300 + (getpid() + 1000) % (pid_max - 300);
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid = (uintptr_t)&want;
	a.set_tid_size = 1;
	c = clone3(&a, sizeof a);
	if (c == 0)
		_exit(getpid() == want ? 0 : 1);
	if (c < 0 && errno == EEXIST) {
		/* Taken on the host: fine natively. */
	} else {
		CHECK(c == want);
		CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	want = getpid();
	CHECK_ERR(clone3(&a, sizeof a), EEXIST);
	a.set_tid_size = 0;
	CHECK_ERR(clone3(&a, sizeof a), EINVAL);
	DONE();
}

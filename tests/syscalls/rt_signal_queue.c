/* Real-time signals queue every instance (lowest number first, values kept); standard signals
 * coalesce; sigtimedwait/sigwaitinfo take them synchronously; rt_sigqueueinfo's rules. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int main(void)
{
	sigset_t all, set;
	sigemptyset(&all);
	sigaddset(&all, SIGRTMIN);
	sigaddset(&all, SIGRTMIN + 1);
	sigaddset(&all, SIGUSR1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &all, NULL));

	/* Three queued instances of SIGRTMIN+1, two of SIGRTMIN, SIGUSR1 twice. */
	for (int i = 0; i < 3; i++)
		CHECK_OK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 10 + i}));
	for (int i = 0; i < 2; i++)
		CHECK_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 20 + i}));
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_OK(kill(getpid(), SIGUSR1));

	CHECK_OK(sigpending(&set));
	CHECK(sigismember(&set, SIGRTMIN) && sigismember(&set, SIGRTMIN + 1));
	CHECK(sigismember(&set, SIGUSR1) && !sigismember(&set, SIGUSR2));

	/* Standard signals first (lowest number first), then RT signals in order, FIFO within. */
	siginfo_t si;
	struct timespec zero = {0, 0};
	CHECK(sigtimedwait(&all, &si, &zero) == SIGUSR1);
	CHECK(si.si_code == SI_USER && si.si_pid == getpid() && si.si_uid == getuid());
	int want[5][2] = {{0, 20}, {0, 21}, {1, 10}, {1, 11}, {1, 12}};
	for (int i = 0; i < 5; i++) {
		int s = sigwaitinfo(&all, &si);
		CHECK(s == SIGRTMIN + want[i][0]);
		CHECK(si.si_code == SI_QUEUE && si.si_value.sival_int == want[i][1]);
		CHECK(si.si_pid == getpid());
	}
	/* SIGUSR1 was coalesced: nothing left. */
	CHECK_ERR(sigtimedwait(&all, &si, &zero), EAGAIN);

	/* A timeout that expires: EAGAIN after about that long. */
	struct timespec t = {0, 30 * 1000 * 1000}, a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(sigtimedwait(&all, &si, &t), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 25 && ms < 2000);
	t.tv_nsec = -1;
	CHECK_ERR(sigtimedwait(&all, &si, &t), EINVAL);

	/* rt_sigqueueinfo: a positive si_code may only be sent to oneself. */
	siginfo_t q;
	memset(&q, 0, sizeof q);
	q.si_signo = SIGUSR1;
	q.si_code = SI_USER;
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q));
	CHECK(sigtimedwait(&all, &si, &zero) == SIGUSR1 && si.si_code == SI_USER);
	q.si_code = SI_QUEUE;
	q.si_value.sival_int = 99;
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &q));
	CHECK(sigtimedwait(&all, &si, &zero) == SIGRTMIN && si.si_value.sival_int == 99);
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), 0, &q)); /* 0: only checks */
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), 65, &q), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)1), EFAULT);
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	q.si_code = SI_USER;
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &q), EPERM);
	q.si_code = SI_KERNEL;
	CHECK_ERR(syscall(SYS_rt_sigqueueinfo, c, SIGUSR1, &q), EPERM);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	DONE();
}

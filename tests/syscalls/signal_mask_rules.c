/* Signal masks and dispositions: SIGKILL/SIGSTOP cannot be caught, ignored or blocked; bad
 * arguments to rt_sigaction/rt_sigprocmask; sa_mask (and the signal itself) blocked during a
 * handler; a signal unblocked while pending is delivered before sigprocmask returns. */
#include "check.h"
#include <signal.h>

static volatile int order[8], n;
static volatile int mask_had_usr2, mask_had_self;

static void on_usr1(int s)
{
	(void)s;
	sigset_t m;
	sigprocmask(SIG_SETMASK, NULL, &m);
	mask_had_usr2 = sigismember(&m, SIGUSR2);
	mask_had_self = sigismember(&m, SIGUSR1);
	order[n++] = 1;
}

static void on_usr2(int s)
{
	(void)s;
	order[n++] = 2;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	sa.sa_handler = SIG_IGN;
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(0, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(65, &sa, NULL), EINVAL);
	/* Querying SIGKILL is fine. */
	struct sigaction old;
	CHECK_OK(sigaction(SIGKILL, NULL, &old));
	CHECK(old.sa_handler == SIG_DFL);
	/* Raw: the sigset size must be 8. */
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 16), EINVAL);
	sigset_t set;
	sigemptyset(&set);
	CHECK_ERR(sigprocmask(99, &set, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8), EFAULT);

	/* Blocking SIGKILL/SIGSTOP is silently ignored. */
	sigfillset(&set);
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, NULL));
	sigset_t now;
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(!sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP));
	CHECK(sigismember(&now, SIGUSR1) && sigismember(&now, SIGRTMAX));
	sigemptyset(&set);
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, NULL));

	/* During on_usr1, SIGUSR2 (in sa_mask) and SIGUSR1 itself are blocked. */
	sa.sa_handler = on_usr1;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	signal(SIGUSR2, on_usr2);
	raise(SIGUSR1);
	CHECK(n == 1 && mask_had_usr2 && mask_had_self);
	/* Afterwards the mask is restored. */
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(!sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2));

	/* Pending while blocked; delivered (lowest first) when unblocked, before the call returns. */
	n = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	raise(SIGUSR2);
	raise(SIGUSR1);
	CHECK(n == 0);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK(n == 2 && order[0] == 1 && order[1] == 2);

	/* Ignoring a pending signal discards it. */
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	raise(SIGUSR2);
	signal(SIGUSR2, SIG_IGN);
	sigset_t pend;
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR2));
	/* But a blocked signal is queued even if ignored (the disposition may change before it
	 * is unblocked); unblocking then discards it. */
	raise(SIGUSR2);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2));
	sigset_t only2;
	sigemptyset(&only2);
	sigaddset(&only2, SIGUSR2);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &only2, NULL));
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR2));
	/* But a blocked signal whose default is to ignore (SIGCHLD, SIGURG) stays pending. */
	signal(SIGURG, SIG_DFL);
	sigaddset(&set, SIGURG);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	raise(SIGURG);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGURG));
	DONE();
}

#include "check.h"
#include <signal.h>

static void handler(int sig) { (void)sig; }

int main(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == handler && (old.sa_flags & SA_RESTART) && sigismember(&old.sa_mask, SIGUSR2));
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	CHECK_OK(sigaction(SIGKILL, NULL, &old));
	CHECK_ERR(sigaction(0, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(65, &sa, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);
	/* Masks. */
	sigset_t set, cur;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGKILL);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGKILL));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, &cur));
	CHECK(sigismember(&cur, SIGUSR1));
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &cur));
	CHECK(!sigismember(&cur, SIGUSR1));
	CHECK_ERR(syscall(SYS_rt_sigprocmask, 42, &set, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);
	sigset_t pend;
	CHECK_OK(sigpending(&pend));
	/* Ignored signals sent to ourselves do nothing. */
	signal(SIGUSR2, SIG_IGN);
	CHECK_OK(kill(getpid(), SIGUSR2));
	CHECK_OK(raise(SIGCHLD));
	CHECK_OK(raise(SIGWINCH));
	CHECK_OK(kill(getpid(), 0));
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	/* An alternate stack round trip. */
	stack_t ss = { .ss_sp = malloc(SIGSTKSZ), .ss_size = SIGSTKSZ, .ss_flags = 0 }, os;
	CHECK_OK(sigaltstack(&ss, NULL));
	CHECK_OK(sigaltstack(NULL, &os));
	CHECK(os.ss_sp == ss.ss_sp && os.ss_size == SIGSTKSZ);
	stack_t small = { .ss_sp = ss.ss_sp, .ss_size = 16, .ss_flags = 0 };
	CHECK_ERR(sigaltstack(&small, NULL), ENOMEM);
	DONE();
}

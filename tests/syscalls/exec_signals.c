/* Signal state across execve: handled signals reset to SIG_DFL, ignored ones stay ignored, the
 * mask and pending signals are kept, the alternate stack is dropped. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static void handler(int s)
{
	(void)s;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		struct sigaction sa;
		sigset_t m, p;
		stack_t ss;
		sigaction(SIGUSR1, NULL, &sa);
		CHECK(sa.sa_handler == SIG_DFL);
		sigaction(SIGUSR2, NULL, &sa);
		CHECK(sa.sa_handler == SIG_IGN);
		sigaction(SIGHUP, NULL, &sa);
		CHECK(sa.sa_handler == SIG_DFL);
		sigprocmask(SIG_SETMASK, NULL, &m);
		CHECK(sigismember(&m, SIGTERM) && !sigismember(&m, SIGUSR1));
		sigpending(&p);
		CHECK(sigismember(&p, SIGTERM));
		CHECK_OK(sigaltstack(NULL, &ss));
		CHECK(ss.ss_flags == SS_DISABLE);
		DONE();
	}
	signal(SIGUSR1, handler);
	signal(SIGUSR2, SIG_IGN);
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK | SA_RESTART};
	sigaction(SIGHUP, &sa, NULL);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGTERM);
	sigprocmask(SIG_BLOCK, &m, NULL);
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	CHECK_OK(sigaltstack(&ss, NULL));
	pid_t c = fork();
	if (c == 0) {
		kill(getpid(), SIGTERM); /* pending, blocked */
		execl("/proc/self/exe", argv[0], "exec", NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

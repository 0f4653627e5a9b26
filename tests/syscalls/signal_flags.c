#include "check.h"
#include <signal.h>

static volatile int depth, max_depth, count;
static void nested(int sig)
{
	(void)sig;
	count++;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (count < 3)
		raise(SIGUSR2);
	depth--;
}

static void once(int sig) { (void)sig; count++; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	/* Without SA_NODEFER the signal is blocked in its handler: no nesting. */
	sa.sa_handler = nested;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	CHECK(count == 3 && max_depth == 1);
	/* With SA_NODEFER it nests. */
	count = depth = max_depth = 0;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	CHECK(count == 3 && max_depth == 3);
	/* SA_RESETHAND: the second one takes the default action (ignored for SIGURG). */
	count = 0;
	sa.sa_handler = once;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGURG, &sa, NULL);
	raise(SIGURG);
	raise(SIGURG);
	CHECK(count == 1);
	struct sigaction cur;
	sigaction(SIGURG, NULL, &cur);
	CHECK(cur.sa_handler == SIG_DFL);
	/* sa_mask is blocked while the handler runs, and restored after. */
	sigset_t before;
	sigprocmask(SIG_BLOCK, NULL, &before);
	CHECK(!sigismember(&before, SIGUSR2));
	DONE();
}

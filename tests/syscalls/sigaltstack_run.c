#include "check.h"
#include <signal.h>

static char *alt;
static volatile int on_alt, flags_inside;
static void h(int sig)
{
	(void)sig;
	char here;
	on_alt = &here >= alt && &here < alt + SIGSTKSZ;
	stack_t s;
	sigaltstack(NULL, &s);
	flags_inside = s.ss_flags;
}

int main(void)
{
	alt = malloc(SIGSTKSZ);
	stack_t ss = { .ss_sp = alt, .ss_size = SIGSTKSZ, .ss_flags = 0 };
	CHECK_OK(sigaltstack(&ss, NULL));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK(on_alt == 1 && flags_inside == SS_ONSTACK);
	/* Without SA_ONSTACK the normal stack is used. */
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CHECK(on_alt == 0);
	DONE();
}

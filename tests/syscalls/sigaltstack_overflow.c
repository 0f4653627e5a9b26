/* sigaltstack: a stack overflow's SIGSEGV handled on the alternate stack; SS_ONSTACK reported
 * while on it and changing it then is EPERM; too small a stack is ENOMEM; bad flags EINVAL. */
#include "check.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>

static sigjmp_buf back;
static volatile int on_alt, change_err;
static char alt[1 << 16];

static void handler(int s)
{
	(void)s;
	stack_t cur;
	sigaltstack(NULL, &cur);
	on_alt = (cur.ss_flags & SS_ONSTACK) != 0;
	char local;
	on_alt = on_alt && &local >= alt && &local < alt + sizeof alt;
	stack_t other = {.ss_sp = alt, .ss_size = sizeof alt};
	change_err = sigaltstack(&other, NULL) == -1 ? errno : 0;
	siglongjmp(back, 1);
}

static int depth(int n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return n > 0 ? depth(n - 1) + pad[0] : 0;
}

int main(void)
{
	stack_t ss = {.ss_sp = alt, .ss_size = 1024};
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = sizeof alt;
	ss.ss_flags = 0x1234;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
	ss.ss_flags = 0;
	CHECK_OK(sigaltstack(&ss, NULL));
	stack_t got;
	CHECK_OK(sigaltstack(NULL, &got));
	CHECK(got.ss_sp == alt && got.ss_size == sizeof alt && got.ss_flags == 0);

	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	/* A small stack limit makes the overflow quick. */
	struct rlimit rl = {1 << 20, 1 << 20};
	setrlimit(RLIMIT_STACK, &rl);
	if (sigsetjmp(back, 1) == 0)
		depth(1 << 20);
	CHECK(on_alt);
	CHECK(change_err == EPERM);
	/* Off the alternate stack again. */
	CHECK_OK(sigaltstack(NULL, &got));
	CHECK(!(got.ss_flags & SS_ONSTACK));
	/* Disable it. */
	ss.ss_flags = SS_DISABLE;
	CHECK_OK(sigaltstack(&ss, NULL));
	CHECK_OK(sigaltstack(NULL, &got));
	CHECK(got.ss_flags == SS_DISABLE);
	CHECK_ERR(sigaltstack((stack_t *)1, NULL), EFAULT);
	DONE();
}

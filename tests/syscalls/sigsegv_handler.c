#include "check.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf env;
static volatile void *fault_addr;
static volatile int fault_code, fault_sig;
static void h(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(env, 1);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	if (sigsetjmp(env, 1) == 0)
		*(volatile int *)0x1000 = 1;
	CHECK(fault_sig == SIGSEGV && fault_addr == (void *)0x1000 && fault_code == SEGV_MAPERR);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(env, 1) == 0)
		ro[10] = 1;
	CHECK(fault_sig == SIGSEGV && fault_addr == ro + 10 && fault_code == SEGV_ACCERR);
	unsigned zero = 0;
	if (sigsetjmp(env, 1) == 0) /* a real div: the compiler rewrites 1 / x without one */
		__asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; div %0" : : "r"(zero) : "eax", "edx");
	CHECK(fault_sig == SIGFPE && fault_code == FPE_INTDIV);
	if (sigsetjmp(env, 1) == 0)
		__asm__ volatile("ud2");
	CHECK(fault_sig == SIGILL && fault_code == ILL_ILLOPN);
	fault_sig = 0;
	if (sigsetjmp(env, 1) == 0)
		__asm__ volatile("int3");
	CHECK(fault_sig == SIGTRAP);
	DONE();
}

/* Memory the process does not have mapped is not writable: a store to any page between the
 * highest mapping /proc/self/maps lists and the top of the user address space faults with
 * SIGSEGV. (A sandbox may keep its own pages there; the application must not be able to
 * change them.) Pages just below a stack are left out: a store there grows the stack. */
#include "check.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf env;
static volatile uintptr_t fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(env, 1);
}

/* The end of the highest mapping below `top`. */
static uintptr_t highest_end(uintptr_t top)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uintptr_t end = 0;
	if (!f)
		return top;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi <= top && hi > end)
			end = hi;
	}
	fclose(f);
	return end;
}

int main(void)
{
	const uintptr_t top = 0x7ffffffff000UL; /* end of the 47-bit user address space */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	uintptr_t start = highest_end(top);
	CHECK(start <= top - 16 * 4096UL);
	if (start < top - 64 * 4096UL)
		start = top - 64 * 4096UL;
	for (uintptr_t page = start; page < top; page += 4096) {
		volatile unsigned char *p = (volatile unsigned char *)page;
		fault_addr = 0;
		if (sigsetjmp(env, 1) == 0) {
			/* Read first (may fault: fine), then store back what was there. */
			unsigned char v = 0;
			if (sigsetjmp(env, 1) == 0)
				v = *p;
			else
				fault_addr = 0;
			if (sigsetjmp(env, 1) == 0) {
				*p = v;
				fprintf(stderr, "store to unlisted page %#lx did not fault\n",
					(unsigned long)page);
				failures++;
			} else {
				CHECK(fault_addr == page);
			}
		}
	}
	DONE();
}

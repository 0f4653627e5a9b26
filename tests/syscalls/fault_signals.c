/* Synchronous signals from the CPU carry the right siginfo (SIGILL from ud2, SIGFPE from a
 * division by zero, SIGTRAP from int3, SIGBUS past the end of a file mapping, SIGSEGV for a
 * write to read-only memory), and a handler may resume past the faulting instruction by
 * editing the saved registers. FPU/SSE registers survive a handler that clobbers them. */
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

static volatile int sig, code;
static void *volatile addr;

static void handler(int s, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	sig = s;
	code = si->si_code;
	addr = si->si_addr;
	/* Skip the faulting instruction: every one used here is 2 bytes long, except int3 (which
	 * leaves rip after itself already). */
	if (s != SIGTRAP)
		uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void on_usr1(int s)
{
	(void)s;
	/* Clobber SSE registers the interrupted code is using. */
	__asm__ volatile("xorps %%xmm0, %%xmm0\n\txorps %%xmm1, %%xmm1\n\txorps %%xmm7, %%xmm7" ::
				 : "xmm0", "xmm1", "xmm7");
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	__asm__ volatile("ud2");
	CHECK(sig == SIGILL && code == ILL_ILLOPN);

	sig = 0;
	/* idiv %ecx with ecx = 0 (2 bytes: f7 f9). */
	__asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx\n\t.byte 0xf7, 0xf9" ::
				 : "eax", "ecx", "edx");
	CHECK(sig == SIGFPE && code == FPE_INTDIV);

	sig = 0;
	__asm__ volatile("int3");
	CHECK(sig == SIGTRAP && code == SI_KERNEL);

	/* A write to a read-only page: SEGV_ACCERR at that address. The store is 2 bytes
	 * (mov %al, (%rdx): 88 02). */
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sig = 0;
	__asm__ volatile("mov %0, %%rdx\n\t.byte 0x88, 0x02" ::"r"(ro + 100) : "rdx", "memory");
	CHECK(sig == SIGSEGV && code == SEGV_ACCERR && addr == ro + 100);
	/* Unmapped: SEGV_MAPERR. */
	munmap(ro, 4096);
	sig = 0;
	__asm__ volatile("mov %0, %%rdx\n\t.byte 0x88, 0x02" ::"r"(ro + 8) : "rdx", "memory");
	CHECK(sig == SIGSEGV && code == SEGV_MAPERR && addr == ro + 8);

	/* A file mapping past the end of its file: SIGBUS, BUS_ADRERR. */
	FILE *f = tmpfile();
	if (!f) {
		/* No writable /tmp: use /dev/shm. */
		int fd = open("/dev/shm/fault_signals", O_CREAT | O_RDWR | O_TRUNC, 0600);
		unlink("/dev/shm/fault_signals");
		f = fdopen(fd, "w+");
	}
	CHECK(f != NULL);
	if (f) {
		fputs("x", f);
		fflush(f);
		char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fileno(f), 0);
		CHECK(m != MAP_FAILED);
		sig = 0;
		/* movzbl (%rdx), %eax is 3 bytes; use mov (%rdx), %al (8a 02). */
		__asm__ volatile("mov %0, %%rdx\n\t.byte 0x8a, 0x02" ::"r"(m + 4096) : "rdx", "rax");
		CHECK(sig == SIGBUS && code == BUS_ADRERR && addr == m + 4096);
	}

	/* SSE state survives a signal handler. */
	signal(SIGUSR1, on_usr1);
	double out[2];
	__asm__ volatile("movsd %2, %%xmm7\n\t"
			 "mov %3, %%edi\n\t"
			 "mov %4, %%esi\n\t"
			 "mov $62, %%eax\n\t" /* kill(getpid(), SIGUSR1) */
			 "syscall\n\t"
			 "movsd %%xmm7, %0\n\t"
			 "movsd %%xmm7, %1"
			 : "=m"(out[0]), "=m"(out[1])
			 : "m"((double){3.25}), "r"(getpid()), "r"(SIGUSR1)
			 : "rax", "rdi", "rsi", "rcx", "r11", "xmm7", "memory");
	CHECK(out[0] == 3.25 && out[1] == 3.25);
	DONE();
}

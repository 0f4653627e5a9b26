/* The FPU state around a signal handler, as Linux keeps it: the handler starts with a fresh
 * state (default MXCSR and x87 control word, zeroed vector registers); the interrupted code
 * gets its own back on return (including the upper halves of the AVX registers); a handler
 * that edits the frame's FPU state changes what the interrupted code resumes with; the frame's
 * XSAVE area carries the software bytes and the trailing magic; a handler entered while the
 * interrupted code was single-stepping (TF set) runs with TF clear. */
#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>
#include <sys/syscall.h>

static unsigned h_mxcsr, h_fcw;
static uint8_t h_xmm15[16], h_ymm15_hi[16];
static int have_avx;
static int edit_frame;
static int magic_ok;

#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u

static void on_usr1(int sig, siginfo_t *si, void *uc_)
{
	(void)sig;
	(void)si;
	/* First: what the handler starts with. */
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1\n\tmovdqu %%xmm15, %2"
			 : "=m"(h_mxcsr), "=m"(h_fcw), "=m"(h_xmm15));
	if (have_avx)
		__asm__ volatile("vextractf128 $1, %%ymm15, %0" : "=m"(h_ymm15_hi));
	ucontext_t *uc = uc_;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t magic1, xsize;
	uint64_t xfeatures;
	memcpy(&magic1, fp + 464, 4);
	memcpy(&xfeatures, fp + 472, 8);
	memcpy(&xsize, fp + 480, 4);
	uint32_t magic2;
	memcpy(&magic2, fp + xsize, 4);
	magic_ok = magic1 == FP_XSTATE_MAGIC1 && magic2 == FP_XSTATE_MAGIC2 && (xfeatures & 3) == 3 &&
		   ((uintptr_t)fp & 63) == 0;
	if (edit_frame) {
		/* xmm15 at 160 + 15 * 16 of the legacy area, MXCSR at 24. */
		memset(fp + 160 + 15 * 16, 0x5a, 16);
		uint32_t mx = 0x1f80 | 0x8000; /* flush to zero */
		memcpy(fp + 24, &mx, 4);
	}
	/* Leave the handler's own state dirty: the interrupted code must not see it. */
	unsigned dirty = 0x1f80 | 0x6000;
	__asm__ volatile("ldmxcsr %0\n\tpcmpeqd %%xmm15, %%xmm15" ::"m"(dirty) : "xmm15");
}

static uint8_t pattern[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static uint8_t hi_pattern[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

/* Set xmm15 (and the upper half of ymm15), MXCSR and the x87 control word, send ourselves
 * SIGUSR1 with a raw syscall, and read them back: all in one asm block so no compiled code
 * touches the registers in between. */
static void roundtrip(uint8_t out[16], uint8_t out_hi[16], unsigned *mxcsr, unsigned *fcw)
{
	unsigned mx = 0x1f80 | 0x0040; /* DAZ */
	unsigned short cw = 0x027f;    /* 53-bit precision */
	long pid = getpid();
	if (have_avx)
		__asm__ volatile("vmovdqu %0, %%xmm0\n\tvinsertf128 $1, %0, %%ymm15, %%ymm15"
				 ::"m"(hi_pattern) : "xmm0", "xmm15");
	__asm__ volatile("ldmxcsr %[mx]\n\t"
			 "fldcw %[cw]\n\t"
			 "movdqu %[pat], %%xmm15\n\t"
			 "mov %[nr], %%eax\n\t"
			 "mov %[pid], %%rdi\n\t"
			 "mov %[sig], %%esi\n\t"
			 "syscall\n\t"
			 "movdqu %%xmm15, %[out]\n\t"
			 "stmxcsr %[omx]\n\t"
			 "fnstcw %[ocw]\n\t"
			 : [out] "=m"(*(uint8_t(*)[16])out), [omx] "=m"(*mxcsr), [ocw] "=m"(*fcw)
			 : [mx] "m"(mx), [cw] "m"(cw), [pat] "m"(pattern), [nr] "i"(SYS_kill),
			   [pid] "r"(pid), [sig] "i"(SIGUSR1)
			 : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "xmm15", "memory");
	if (have_avx)
		__asm__ volatile("vextractf128 $1, %%ymm15, %0" : "=m"(*(uint8_t(*)[16])out_hi));
	/* Back to the defaults for the rest of the program. */
	unsigned def = 0x1f80;
	unsigned short defcw = 0x037f;
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" ::"m"(def), "m"(defcw));
}

static volatile int traps;

static void on_trap(int sig, siginfo_t *si, void *uc_)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = uc_;
	unsigned long fl;
	__asm__ volatile("pushfq\n\tpopq %0" : "=r"(fl));
	CHECK((fl & 0x100) == 0); /* the handler itself is not single-stepped */
	CHECK(uc->uc_mcontext.gregs[REG_EFL] & 0x100);
	if (++traps == 3)
		uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L;
}

int main(void)
{
	__builtin_cpu_init();
	have_avx = __builtin_cpu_supports("avx");
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));

	uint8_t out[16], out_hi[16] = { 0 };
	unsigned mx, cw;
	roundtrip(out, out_hi, &mx, &cw);
	/* The handler started fresh. */
	CHECK(h_mxcsr == 0x1f80);
	CHECK((h_fcw & 0xffff) == 0x037f);
	static const uint8_t zero[16];
	CHECK(memcmp(h_xmm15, zero, 16) == 0);
	if (have_avx)
		CHECK(memcmp(h_ymm15_hi, zero, 16) == 0);
	CHECK(magic_ok);
	/* The interrupted code got its own state back. */
	CHECK(memcmp(out, pattern, 16) == 0);
	CHECK(mx == (0x1f80 | 0x0040));
	CHECK((cw & 0xffff) == 0x027f);
	if (have_avx)
		CHECK(memcmp(out_hi, hi_pattern, 16) == 0);

	/* A handler's edits of the frame's FPU state are what the code resumes with. */
	edit_frame = 1;
	roundtrip(out, out_hi, &mx, &cw);
	uint8_t fives[16];
	memset(fives, 0x5a, 16);
	CHECK(memcmp(out, fives, 16) == 0);
	CHECK(mx == (0x1f80 | 0x8000));

	/* Single-stepping: three SIGTRAPs, each handler entered with TF clear. */
	sa.sa_sigaction = on_trap;
	CHECK_OK(sigaction(SIGTRAP, &sa, NULL));
	__asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
			 "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t" ::: "memory", "cc");
	CHECK(traps == 3);
	DONE();
}

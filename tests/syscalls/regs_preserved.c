/* Registers across syscalls: a syscall keeps every register but rax, rcx and r11; a signal
 * frame holds the registers of the moment, and the handler's changes to them (whatever their
 * value) are what the thread resumes with; fork's child starts with its parent's registers;
 * an FS/GS base written with wrfsbase/wrgsbase survives syscalls and is what arch_prctl
 * reports. */
#include "check.h"
#include <asm/prctl.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <ucontext.h>

/* The values the helpers below load. */
#define P_RBX 0x1111111111111111UL
#define P_RBP 0x2222222222222222UL
#define P_R12 0x3333333333333333UL
#define P_R13 0x4444444444444444UL
#define P_R14 0x5555555555555555UL
#define P_R15 0x6666666666666666UL
#define P_RDI 0x7777777777777777UL
#define P_RSI 0x8888888888888888UL
#define P_RDX 0x9999999999999999UL
#define P_R10 0xaaaaaaaaaaaaaaaaUL
#define P_R8 0xbbbbbbbbbbbbbbbbUL
#define P_R9 0xccccccccccccccccUL

/* long syscall_keeps(long nr): syscall `nr` with every other register loaded with a pattern;
 * returns a bit per register that changed (rbx rbp r12 r13 r14 r15 rdi rsi rdx r10 r8 r9). */
long syscall_keeps(long nr);
/* long fork_keeps(void): fork with the callee-saved registers loaded; the child exits with a
 * bit per register that differs, the parent returns the child's pid. */
long fork_keeps(void);
/* void kill_regs(long pid, long sig, unsigned long out[6]): kill with rbx rbp r12-r15 loaded,
 * then store what those six hold after the call. */
void kill_regs(long pid, long sig, unsigned long *out);

#define LOAD_PATTERNS                                                                      \
	"movabs $0x1111111111111111, %rbx\n"                                               \
	"movabs $0x2222222222222222, %rbp\n"                                               \
	"movabs $0x3333333333333333, %r12\n"                                               \
	"movabs $0x4444444444444444, %r13\n"                                               \
	"movabs $0x5555555555555555, %r14\n"                                               \
	"movabs $0x6666666666666666, %r15\n"
#define PUSH_SAVED "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
#define POP_SAVED "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\n"
/* Bit `b` of %rcx if `reg` differs from the pattern (clobbers %rax). */
#define CMP(reg, pat, b)                                                                   \
	"movabs $" pat ", %rax\n"                                                          \
	"cmp %rax, " reg "\n"                                                              \
	"je 1f\n"                                                                          \
	"or $" b ", %rcx\n"                                                                \
	"1:\n"

/* Bits 1 to 32 of %rcx for rbx rbp r12 r13 r14 r15 that differ from their patterns. */
#define CMP_SAVED                                                                          \
	CMP("%rbx", "0x1111111111111111", "1")                                             \
	CMP("%rbp", "0x2222222222222222", "2")                                             \
	CMP("%r12", "0x3333333333333333", "4")                                             \
	CMP("%r13", "0x4444444444444444", "8")                                             \
	CMP("%r14", "0x5555555555555555", "16")                                            \
	CMP("%r15", "0x6666666666666666", "32")

__asm__(".text\n"
	".globl syscall_keeps\n"
	"syscall_keeps:\n" PUSH_SAVED "mov %rdi, %rax\n" LOAD_PATTERNS
	"movabs $0x7777777777777777, %rdi\n"
	"movabs $0x8888888888888888, %rsi\n"
	"movabs $0x9999999999999999, %rdx\n"
	"movabs $0xaaaaaaaaaaaaaaaa, %r10\n"
	"movabs $0xbbbbbbbbbbbbbbbb, %r8\n"
	"movabs $0xcccccccccccccccc, %r9\n"
	"syscall\n"
	"xor %ecx, %ecx\n" CMP_SAVED
	CMP("%rdi", "0x7777777777777777", "64") CMP("%rsi", "0x8888888888888888", "128")
	CMP("%rdx", "0x9999999999999999", "256") CMP("%r10", "0xaaaaaaaaaaaaaaaa", "512")
	CMP("%r8", "0xbbbbbbbbbbbbbbbb", "1024") CMP("%r9", "0xcccccccccccccccc", "2048")
	"mov %rcx, %rax\n" POP_SAVED "ret\n"

	".globl fork_keeps\n"
	"fork_keeps:\n" PUSH_SAVED LOAD_PATTERNS "mov $57, %eax\n"
	"syscall\n"
	"test %rax, %rax\n"
	"jnz 2f\n"
	"xor %ecx, %ecx\n" CMP_SAVED
	"mov %ecx, %edi\n"
	"mov $231, %eax\n"
	"syscall\n"
	"2:\n" POP_SAVED "ret\n"

	".globl kill_regs\n"
	"kill_regs:\n" PUSH_SAVED "push %rdx\n" LOAD_PATTERNS "mov $62, %eax\n"
	"syscall\n"
	"pop %rdx\n"
	"mov %rbx, 0(%rdx)\n"
	"mov %rbp, 8(%rdx)\n"
	"mov %r12, 16(%rdx)\n"
	"mov %r13, 24(%rdx)\n"
	"mov %r14, 32(%rdx)\n"
	"mov %r15, 40(%rdx)\n" POP_SAVED "ret\n");

static volatile int frame_ok;

static void on_usr1(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	/* The frame holds the registers at the kill. */
	frame_ok = (unsigned long)g[REG_RBX] == P_RBX && (unsigned long)g[REG_RBP] == P_RBP &&
		   (unsigned long)g[REG_R12] == P_R12 && (unsigned long)g[REG_R13] == P_R13 &&
		   (unsigned long)g[REG_R14] == P_R14 && (unsigned long)g[REG_R15] == P_R15;
	/* Changes, including to values a sandbox might use as markers, are what resumes. */
	g[REG_RBX] = 0xbad0bad0bad0bad0L;
	g[REG_R12] = 0x0123456789abcdefL;
	g[REG_R15] = (greg_t)0xdeadbeefdeadbeefUL;
}

int main(void)
{
	/* A syscall keeps every register but rax, rcx and r11, whatever the call. */
	CHECK(syscall_keeps(SYS_getpid) == 0);
	CHECK(syscall_keeps(SYS_sched_yield) == 0);
	CHECK(syscall_keeps(SYS_getppid) == 0);
	/* Even one that fails (bad number: ENOSYS; bad pointer: EFAULT). */
	CHECK(syscall_keeps(1999) == 0);
	CHECK(syscall_keeps(SYS_uname) == 0);

	/* fork: the child has the parent's registers. */
	long pid = fork_keeps();
	CHECK(pid > 0);
	if (pid > 0) {
		int st = 0;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* A signal frame and what the handler changes in it. */
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	unsigned long out[6] = {0};
	kill_regs(getpid(), SIGUSR1, out);
	CHECK(frame_ok);
	CHECK(out[0] == 0xbad0bad0bad0bad0UL);
	CHECK(out[1] == P_RBP);
	CHECK(out[2] == 0x0123456789abcdefUL);
	CHECK(out[3] == P_R13);
	CHECK(out[4] == P_R14);
	CHECK(out[5] == 0xdeadbeefdeadbeefUL);

	/* FS and GS bases written by the application itself (FSGSBASE instructions, where the
	 * kernel enables them): kept across a syscall and reported by arch_prctl. */
	if (getauxval(AT_HWCAP2) & 2 /* HWCAP2_FSGSBASE */) {
		unsigned long old_fs, fs_after, fs_got = 0, gs_after, gs_got = 0, old_gs;
		unsigned long new_fs = 0x12345000, new_gs = 0x23456000;
		long r1, r2;
		/* No libc call between the writes and the restore: TLS lives at %fs. */
		__asm__ volatile("rdfsbase %[ofs]\n"
				 "rdgsbase %[ogs]\n"
				 "wrfsbase %[nfs]\n"
				 "wrgsbase %[ngs]\n"
				 "mov $39, %%eax\n"
				 "syscall\n"
				 "rdfsbase %[fa]\n"
				 "rdgsbase %[ga]\n"
				 "mov $158, %%eax\n"
				 "mov $0x1003, %%edi\n" /* ARCH_GET_FS */
				 "mov %[pfs], %%rsi\n"
				 "syscall\n"
				 "mov %%rax, %[r1]\n"
				 "mov $158, %%eax\n"
				 "mov $0x1004, %%edi\n" /* ARCH_GET_GS */
				 "mov %[pgs], %%rsi\n"
				 "syscall\n"
				 "mov %%rax, %[r2]\n"
				 "wrfsbase %[ofs]\n"
				 "wrgsbase %[ogs]\n"
				 : [ofs] "=&r"(old_fs), [ogs] "=&r"(old_gs), [fa] "=&r"(fs_after),
				   [ga] "=&r"(gs_after), [r1] "=&r"(r1), [r2] "=&r"(r2)
				 : [nfs] "r"(new_fs), [ngs] "r"(new_gs), [pfs] "r"(&fs_got),
				   [pgs] "r"(&gs_got)
				 : "rax", "rcx", "r11", "rdi", "rsi", "memory");
		CHECK(fs_after == new_fs);
		CHECK(gs_after == new_gs);
		CHECK(r1 == 0 && fs_got == new_fs);
		CHECK(r2 == 0 && gs_got == new_gs);
		unsigned long fs_now = 0;
		CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_now));
		CHECK(fs_now == old_fs);
	} else {
		printf("no FSGSBASE: base checks skipped\n");
	}
	DONE();
}

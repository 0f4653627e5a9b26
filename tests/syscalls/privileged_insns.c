/* Privileged instructions and probes outside the application's mappings arrive as the signals
 * Linux sends (SIGSEGV; SIGILL for an undefined opcode), never reach the host, and never take
 * the sandbox down: each runs in a child that must die of the right signal. */
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static void hlt(void) { __asm__ volatile("hlt"); }
static void out(void) { __asm__ volatile("outb %%al, $0x80" ::"a"(0)); }
static void out_low_port(void) { __asm__ volatile("outb %%al, $0x10" ::"a"(0)); }
static void in(void) { unsigned char v; __asm__ volatile("inb $0x10, %0" : "=a"(v)); }
static void wrmsr(void) { __asm__ volatile("wrmsr" ::"c"(0xc0000082), "a"(0), "d"(0)); }
static void rdmsr(void) { unsigned lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x10)); }
static void mov_cr3(void) { __asm__ volatile("mov %0, %%cr3" ::"r"(0UL)); }
static void read_cr0(void) { unsigned long v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); }
static void cli(void) { __asm__ volatile("cli"); }
static void lgdt(void) { static char d[10]; __asm__ volatile("lgdt %0" ::"m"(d)); }
static void invlpg(void) { __asm__ volatile("invlpg (%0)" ::"r"(0x1000UL)); }
static void ud2(void) { __asm__ volatile("ud2"); }

static unsigned long probe_addr;
static void probe(void) { (void)*(volatile char *)probe_addr; }
static void probe_write(void) { *(volatile char *)probe_addr = 1; }

static int dies_of(void (*f)(void))
{
	pid_t c = fork();
	if (c == 0) {
		f();
		_exit(0);
	}
	int s;
	if (waitpid(c, &s, 0) != c)
		return -1;
	return WIFSIGNALED(s) ? WTERMSIG(s) : 0;
}

/* Whether the page holding addr is mapped here (natively the stack may sit anywhere high). */
static int mapped(unsigned long addr)
{
	unsigned char v;
	return mincore((void *)(addr & ~4095UL), 4096, &v) == 0 || errno != ENOMEM;
}

int main(void)
{
	struct { const char *name; void (*f)(void); int sig; } cases[] = {
		{ "hlt", hlt, SIGSEGV },        { "out", out, SIGSEGV },
		{ "out 0x10", out_low_port, SIGSEGV }, { "in 0x10", in, SIGSEGV },
		{ "wrmsr", wrmsr, SIGSEGV },    { "rdmsr", rdmsr, SIGSEGV },
		{ "mov cr3", mov_cr3, SIGSEGV }, { "mov from cr0", read_cr0, SIGSEGV },
		{ "cli", cli, SIGSEGV },        { "lgdt", lgdt, SIGSEGV },
		{ "invlpg", invlpg, SIGSEGV },  { "ud2", ud2, SIGILL },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int sig = dies_of(cases[i].f);
		if (sig != cases[i].sig) {
			fprintf(stderr, "%s: died of %d, want %d\n", cases[i].name, sig, cases[i].sig);
			failures++;
		}
	}
	/* The top of the lower half (where a sandbox platform may keep its own pages; its one
	 * readable page is probed by probe_top_page.c), the kernel half, and non-canonical
	 * addresses. */
	unsigned long addrs[] = {
		0x7fffc0000000UL, 0x7fffe0001000UL, 0x7fffe0003000UL,
		0x7ffffffff000UL, 0x800000000000UL, 0xffff800000000000UL, 0xffffffffff600000UL,
		0xfffffffffffff000UL,
	};
	for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		probe_addr = addrs[i];
		if (mapped(probe_addr) && probe_addr < 0x800000000000UL)
			continue;
		int sig = dies_of(probe_write);
		if (sig != SIGSEGV) {
			fprintf(stderr, "write at %#lx: died of %d, want SIGSEGV\n", probe_addr, sig);
			failures++;
		}
		if (probe_addr == 0xffffffffff600000UL)
			continue; /* the vsyscall page may be readable natively */
		sig = dies_of(probe);
		if (sig != SIGSEGV) {
			fprintf(stderr, "read at %#lx: died of %d, want SIGSEGV\n", probe_addr, sig);
			failures++;
		}
	}
	return failures ? 1 : 0;
}

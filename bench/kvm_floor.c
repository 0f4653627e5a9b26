/* The machine's raw KVM exit round trip: a guest in 64-bit ring 3 doing `out` in a loop
 * (the TSS lets ring 3 use the port), one KVM_RUN per exit with KVM_CAP_SYNC_REGS as the kvm
 * platform uses it. Prints nanoseconds per exit. Usage: kvm_floor ITERATIONS */
#include <err.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

static void seg(struct kvm_segment *s, uint16_t sel, int code, int dpl)
{
	memset(s, 0, sizeof *s);
	s->selector = sel; s->limit = 0xffffffff; s->present = 1; s->s = 1; s->g = 1; s->dpl = dpl;
	if (code) { s->type = 11; s->l = 1; } else { s->type = 3; s->db = 1; }
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) err(1, "/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	size_t size = 1 << 20;
	uint8_t *mem = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = { .memory_size = size, .userspace_addr = (uint64_t)mem };
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)) err(1, "vm");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	struct kvm_run *run = mmap(0, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	/* identity-mapped 1 MiB: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 */
	uint64_t *pml4 = (void *)(mem + 0x1000), *pdpt = (void *)(mem + 0x2000), *pd = (void *)(mem + 0x3000), *pt = (void *)(mem + 0x4000);
	pml4[0] = 0x2000 | 7; pdpt[0] = 0x3000 | 7; pd[0] = 0x4000 | 7;
	for (int i = 0; i < 256; i++) pt[i] = (uint64_t)i * 4096 | 7;
	uint8_t *tss = mem + 0x6000; /* I/O bitmap at 0x68: port 0x10 allowed */
	uint16_t iomap = 0x68; memcpy(tss + 0x66, &iomap, 2); memset(tss + 0x68, 0xff, 5); tss[0x68 + 2] = 0xfe;
	uint8_t code[] = { 0xe6, 0x10, 0xeb, 0xfc }; /* 1: out %al,$0x10; jmp 1b */
	memcpy(mem + 0x8000, code, sizeof code);
	struct kvm_sregs s;
	ioctl(vcpu, KVM_GET_SREGS, &s);
	seg(&s.cs, 0x33, 1, 3); seg(&s.ss, 0x2b, 0, 3);
	s.tr.base = 0x6000; s.tr.limit = 0x6c; s.tr.selector = 0x40; s.tr.type = 11; s.tr.present = 1;
	s.cr0 = 0x80050033; s.cr4 = 0x20 | 0x200 | 0x400; s.cr3 = 0x1000; s.efer = 0xd00;
	if (ioctl(vcpu, KVM_SET_SREGS, &s)) err(1, "sregs");
	struct kvm_regs regs = { .rip = 0x8000, .rflags = 0x202, .rsp = 0x7000 };
	ioctl(vcpu, KVM_SET_REGS, &regs);
	run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	struct timespec a, b;
	for (long i = -100; i < n; i++) {
		if (i == 0) clock_gettime(CLOCK_MONOTONIC, &a);
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
			errx(1, "unexpected exit %d", run->exit_reason);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}

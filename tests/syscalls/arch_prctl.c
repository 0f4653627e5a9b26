#include "check.h"
#include <asm/prctl.h>

int main(void)
{
	unsigned long fs = 0;
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	/* glibc keeps the TCB self pointer at %fs:0. */
	unsigned long self;
	__asm__("mov %%fs:0, %0" : "=r"(self));
	CHECK(fs == self && fs != 0);
	/* Setting FS to the same value keeps TLS working. */
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
	errno = 0;
	CHECK(errno == 0);
	unsigned long gs = 1;
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
	CHECK_ERR(syscall(SYS_arch_prctl, 0x9999, &gs), EINVAL);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000UL), EPERM);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, 1), EFAULT);
	DONE();
}

#include "check.h"

int main(void)
{
	/* Numbers no kernel implements. */
	CHECK_ERR(syscall(1000), ENOSYS);
	CHECK_ERR(syscall(511), ENOSYS);
	CHECK_ERR(syscall(-1L), ENOSYS);
	CHECK_ERR(syscall(0x40000000 | 39), ENOSYS); /* x32 ABI, not supported by either */
	DONE();
}

#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	CHECK_OK(msync(p, 2 * 4096, MS_SYNC));
	CHECK_OK(msync(p, 4096, MS_ASYNC | MS_INVALIDATE));
	CHECK_ERR(msync(p, 4096, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERR(msync(p + 1, 4096, MS_SYNC), EINVAL);
	CHECK_ERR(msync(p, 4096, 0x100), EINVAL);
	CHECK_OK(munmap(p, 2 * 4096));
	CHECK_ERR(msync(p, 4096, MS_SYNC), ENOMEM);
	DONE();
}

#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 'q', 8 * 4096);
	CHECK_OK(mprotect(p, 4096, PROT_READ));
	CHECK(p[0] == 'q');
	CHECK_OK(mprotect(p + 4096, 4096, PROT_NONE));
	CHECK_OK(mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE));
	CHECK(p[4096] == 'q');
	p[4096] = 'r';
	CHECK(p[4096] == 'r');
	CHECK_OK(mprotect(p, 4096, PROT_READ | PROT_WRITE));
	p[0] = 's';
	CHECK(p[0] == 's');
	CHECK_ERR(mprotect(p + 1, 4096, PROT_READ), EINVAL);
	CHECK_ERR(mprotect(p, 4096, 0x1000), EINVAL);
	CHECK_OK(munmap(p + 4 * 4096, 4096));
	/* A range with a hole is ENOMEM. */
	CHECK_ERR(mprotect(p, 8 * 4096, PROT_READ), ENOMEM);
	/* Length 0 is a no-op. */
	CHECK_OK(mprotect(p, 0, PROT_READ));
	DONE();
}

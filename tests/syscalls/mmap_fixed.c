#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *base = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(base != MAP_FAILED);
	memset(base, 'a', 16 * 4096);
	/* MAP_FIXED replaces the middle. */
	char *m = mmap(base + 4 * 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(m == base + 4 * 4096);
	CHECK(m[0] == 0 && base[3 * 4096] == 'a' && base[5 * 4096] == 'a');
	/* MAP_FIXED_NOREPLACE refuses an occupied range, accepts a free one. */
	CHECK_ERR(mmap(base, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	CHECK_OK(munmap(base + 8 * 4096, 4096));
	char *n = mmap(base + 8 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(n == base + 8 * 4096);
	/* Unaligned fixed address. */
	CHECK_ERR(mmap(base + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
	/* A hint that is free is honoured. */
	CHECK_OK(munmap(base, 16 * 4096));
	char *h = mmap(base, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(h == base);
	DONE();
}

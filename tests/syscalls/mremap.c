#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(munmap(p + 4 * 4096, 4 * 4096));
	for (int i = 0; i < 4 * 4096; i++)
		p[i] = (char)(i * 7);
	/* Block growth in place. */
	char *blocker = mmap(p + 4 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(blocker == p + 4 * 4096);
	CHECK_ERR(mremap(p, 4 * 4096, 8 * 4096, 0), ENOMEM);
	char *q = mremap(p, 4 * 4096, 8 * 4096, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	int ok = 1;
	for (int i = 0; i < 4 * 4096; i++)
		ok &= q[i] == (char)(i * 7);
	CHECK(ok);
	q[8 * 4096 - 1] = 1;
	/* Shrink in place. */
	CHECK(mremap(q, 8 * 4096, 2 * 4096, 0) == q);
	CHECK(q[4096] == (char)(4096 * 7));
	/* Fixed destination. */
	char *dst = mmap(NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dst != MAP_FAILED);
	char *r = mremap(q, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(r == dst);
	CHECK(r[1] == 7);
	CHECK_ERR(mremap(r, 4096, 4096, MREMAP_FIXED, dst), EINVAL);
	CHECK_ERR(mremap(r + 1, 4096, 4096, 0), EINVAL);
	CHECK_ERR(mremap(r, 4096, 0, 0), EINVAL);
	CHECK_ERR(mremap(r, 4096, 4096, 0x100), EINVAL);
	DONE();
}

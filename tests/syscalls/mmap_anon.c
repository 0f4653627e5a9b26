#include "check.h"
#include <sys/mman.h>

int main(void)
{
	size_t len = 64 * 4096;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(((uintptr_t)p & 4095) == 0);
	int zero = 1;
	for (size_t i = 0; i < len; i += 512)
		zero &= p[i] == 0;
	CHECK(zero);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)i;
	int ok = 1;
	for (size_t i = 0; i < len; i++)
		ok &= p[i] == (unsigned char)i;
	CHECK(ok);
	CHECK_OK(munmap(p + 4096, 4096));
	CHECK(p[0] == 0 && p[8192] == 0);
	CHECK_ERR(munmap(p + 1, 4096), EINVAL);
	CHECK_ERR(munmap(p, 0), EINVAL);
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	/* Linux ignores unknown protection bits in mmap. */
	void *odd = mmap(NULL, 4096, PROT_READ | 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(odd != MAP_FAILED);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, 0xf | MAP_ANONYMOUS, -1, 0), EINVAL);
	/* Unmapping an unmapped range is fine. */
	CHECK_OK(munmap(p, len));
	CHECK_OK(munmap(p, len));
	/* Many small mappings get distinct addresses. */
	void *a = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *b = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b);
	/* Shared anonymous memory is usable too. */
	int *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	s[0] = 42;
	s[1500] = 7;
	CHECK(s[0] == 42 && s[1500] == 7 && s[1] == 0);
	DONE();
}

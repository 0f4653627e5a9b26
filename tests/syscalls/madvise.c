#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 'm', 4 * 4096);
	CHECK_OK(madvise(p + 4096, 2 * 4096, MADV_DONTNEED));
	CHECK(p[0] == 'm' && p[4096] == 0 && p[2 * 4096 + 5] == 0 && p[3 * 4096] == 'm');
	/* A private file mapping reverts to the file. */
	int fd = open("/etc/passwd", O_RDONLY);
	char *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	char orig = f[0];
	f[0] = orig + 1;
	CHECK_OK(madvise(f, 4096, MADV_DONTNEED));
	CHECK(f[0] == orig);
	CHECK_ERR(madvise(p, 4096, 12345), EINVAL);
	CHECK_ERR(madvise(p + 1, 4096, MADV_NORMAL), EINVAL);
	CHECK_OK(munmap(p + 2 * 4096, 4096));
	CHECK_ERR(madvise(p, 4 * 4096, MADV_WILLNEED), ENOMEM);
	CHECK_OK(madvise(p, 4096, MADV_SEQUENTIAL));
	DONE();
}

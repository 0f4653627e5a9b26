#include "check.h"
#include <sys/mman.h>

int main(void)
{
	int fd = open("/bin/busybox", O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	size_t len = st.st_size;
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(memcmp(p, "\177ELF", 4) == 0);
	/* Every 4 KiB page matches pread. */
	unsigned char buf[4096];
	int same = 1;
	for (size_t off = 0; off < len; off += 7 * 4096) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		same &= n > 0 && memcmp(p + off, buf, n) == 0;
	}
	CHECK(same);
	/* With an offset. */
	unsigned char *q = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 3 * 4096);
	CHECK(q != MAP_FAILED);
	CHECK(pread(fd, buf, 4096, 3 * 4096) == 4096 && memcmp(q, buf, 4096) == 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
	/* A private writable copy: writes stay private. */
	unsigned char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(w != MAP_FAILED);
	w[0] = 'X';
	CHECK(w[0] == 'X' && p[0] == 0x7f);
	CHECK(pread(fd, buf, 1, 0) == 1 && buf[0] == 0x7f);
	/* The tail of the last page past EOF reads as zero. */
	size_t last = len & ~4095UL;
	if (last < len) {
		int z = 1;
		for (size_t i = len; i < last + 4096; i++)
			z &= p[i] == 0;
		CHECK(z);
	}
	CHECK_OK(munmap(p, len));
	close(fd);
	DONE();
}

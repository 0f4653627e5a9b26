/* File mappings on the root file system: MAP_SHARED writes reach read(), write() reaches the
 * mapping, msync, a mapping outliving the file's name, MAP_PRIVATE copies on write, and a
 * host file (below the overlay) mapped privately reads as read() does. */
#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/palisade-mmapf-%d", getpid());
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_OK(ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	memcpy(m + 100, "through the map", 15);
	CHECK_OK(msync(m, 8192, MS_SYNC));
	char buf[32] = { 0 };
	CHECK(pread(fd, buf, 15, 100) == 15 && memcmp(buf, "through the map", 15) == 0);
	CHECK(pwrite(fd, "via write", 9, 5000) == 9);
	CHECK(memcmp(m + 5000, "via write", 9) == 0);
	/* A second shared mapping sees the same pages. */
	char *m2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(m2 != MAP_FAILED && memcmp(m2 + 904, "via write", 9) == 0);
	/* Private: writes stay in the mapping. */
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	memcpy(p + 100, "PRIVATE", 7);
	CHECK(pread(fd, buf, 7, 100) == 7 && memcmp(buf, "through", 7) == 0);
	CHECK(memcmp(m + 100, "through", 7) == 0);
	/* The name goes, the mapping stays. */
	close(fd);
	CHECK_OK(unlink(path));
	memcpy(m, "after", 5);
	CHECK(memcmp(m, "after", 5) == 0 && memcmp(m2 + 904, "via write", 9) == 0);
	munmap(m, 8192);
	munmap(m2, 4096);
	munmap(p, 4096);
	/* A file of the root below the overlay. */
	int e = open("/etc/passwd", O_RDONLY);
	CHECK(e >= 0);
	struct stat st;
	CHECK_OK(fstat(e, &st));
	size_t n = st.st_size < 4096 ? st.st_size : 4096;
	char *q = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, e, 0);
	CHECK(q != MAP_FAILED);
	char *r = malloc(n);
	CHECK(pread(e, r, n, 0) == (ssize_t)n && memcmp(q, r, n) == 0);
	q[0] ^= 1; /* copy on write: the file is unchanged */
	CHECK(pread(e, r, 1, 0) == 1 && r[0] != q[0]);
	CHECK(mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, e, 0) == MAP_FAILED && errno == EACCES);
	munmap(q, n);
	free(r);
	close(e);
	return failures != 0;
}

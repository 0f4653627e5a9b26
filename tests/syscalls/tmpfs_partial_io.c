/* Reads and writes on a tmpfs file that span several application pages: unaligned
 * offsets, holes read as zeros, and a buffer that faults part way (a short transfer of
 * the bytes before the fault; EFAULT only when the first byte faults). */
#include "check.h"
#include <sys/mman.h>

int main(void)
{
	int fd = shm_tmpfd("partial-io");
	long pg = sysconf(_SC_PAGESIZE);
	char *b = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(b != MAP_FAILED);
	for (long i = 0; i < 4 * pg; i++)
		b[i] = (char)(i * 7 + 3);

	/* Unaligned on both sides, over four app pages and several file pages. */
	CHECK(pwrite(fd, b + 123, 3 * pg + 17, 5000) == 3 * pg + 17);
	char *c = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c != MAP_FAILED);
	CHECK(pread(fd, c + 77, 3 * pg + 17, 5000) == 3 * pg + 17);
	CHECK(memcmp(b + 123, c + 77, 3 * pg + 17) == 0);
	/* The hole before offset 5000 reads as zeros. */
	memset(c, 1, pg);
	CHECK(pread(fd, c, 5000, 0) == 5000);
	for (int i = 0; i < 5000; i++)
		CHECK(c[i] == 0);
	/* Reading past the end is short. */
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 5000 + 3 * pg + 17);
	CHECK(pread(fd, c, 2 * pg, st.st_size - 10) == 10);

	/* A source buffer whose second page is inaccessible: only the first part is written. */
	CHECK_OK(mprotect(b + pg, pg, PROT_NONE));
	CHECK(pwrite(fd, b + pg - 100, 300, 0) == 100);
	CHECK(pread(fd, c, 100, 0) == 100);
	CHECK(memcmp(c, b + pg - 100, 100) == 0);
	CHECK_ERR(pwrite(fd, b + pg, 10, 0), EFAULT);
	/* A destination whose second page is read-only: a short read. */
	CHECK_OK(mprotect(c + pg, pg, PROT_READ));
	CHECK(pread(fd, c + pg - 40, 200, 1000) == 40);
	CHECK_ERR(pread(fd, c + pg, 10, 1000), EFAULT);
	/* A write that faults at once changes nothing: the size stays. */
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 5000 + 3 * pg + 17);
	DONE();
}

/* SEEK_DATA and SEEK_HOLE on tmpfs follow the file's pages: a sparse file's holes are found
 * at page granularity, a punched hole becomes a hole again, the end of the file is a hole,
 * an offset past the end is ENXIO, and a found position becomes the file offset. */
#include "check.h"
#include <linux/falloc.h>

#define PG 4096L

int main(void)
{
	int fd = shm_tmpfd("seek");

	/* Empty: nothing at or past the end. */
	CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 0, SEEK_HOLE), ENXIO);

	/* All hole. */
	CHECK_OK(ftruncate(fd, 256 * PG));
	CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	CHECK(lseek(fd, 0, SEEK_HOLE) == 0);
	CHECK(lseek(fd, 5 * PG + 7, SEEK_HOLE) == 5 * PG + 7);
	CHECK_ERR(lseek(fd, 256 * PG, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_HOLE), ENXIO);

	/* One byte of data in page 64, two pages at 100-101. */
	CHECK(pwrite(fd, "x", 1, 64 * PG + 10) == 1);
	char big[2 * PG];
	memset(big, 'y', sizeof big);
	CHECK(pwrite(fd, big, sizeof big, 100 * PG) == (ssize_t)sizeof big);
	CHECK(lseek(fd, 0, SEEK_DATA) == 64 * PG);
	CHECK(lseek(fd, 0, SEEK_CUR) == 64 * PG); /* the result is the new offset */
	CHECK(lseek(fd, 64 * PG + 100, SEEK_DATA) == 64 * PG + 100);
	CHECK(lseek(fd, 64 * PG, SEEK_HOLE) == 65 * PG);
	CHECK(lseek(fd, 65 * PG, SEEK_DATA) == 100 * PG);
	CHECK(lseek(fd, 100 * PG, SEEK_HOLE) == 102 * PG);
	CHECK(lseek(fd, 101 * PG + 5, SEEK_HOLE) == 102 * PG);
	CHECK_ERR(lseek(fd, 102 * PG, SEEK_DATA), ENXIO);
	CHECK(lseek(fd, 0, SEEK_CUR) == 102 * PG); /* a failed seek leaves the offset */

	/* Punching the first page of the pair leaves a hole there. */
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100 * PG, PG));
	CHECK(lseek(fd, 65 * PG, SEEK_DATA) == 101 * PG);
	CHECK(lseek(fd, 100 * PG, SEEK_HOLE) == 100 * PG);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_blocks == 2 * PG / 512);

	/* Data in the last, partial page: the hole after it is the end of the file. */
	CHECK_OK(ftruncate(fd, 300 * PG + 11));
	CHECK(pwrite(fd, "z", 1, 300 * PG + 10) == 1);
	CHECK(lseek(fd, 102 * PG, SEEK_DATA) == 300 * PG);
	CHECK(lseek(fd, 300 * PG, SEEK_HOLE) == 300 * PG + 11);
	CHECK_ERR(lseek(fd, 300 * PG + 11, SEEK_DATA), ENXIO);

	/* Shrinking drops the data beyond. */
	CHECK_OK(ftruncate(fd, 90 * PG));
	CHECK(lseek(fd, 65 * PG, SEEK_HOLE) == 65 * PG);
	CHECK_ERR(lseek(fd, 65 * PG, SEEK_DATA), ENXIO);

	/* Bad whence; pipes do not seek. */
	CHECK_ERR(lseek(fd, 0, 5), EINVAL);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(lseek(p[0], 0, SEEK_DATA), ESPIPE);
	CHECK_ERR(lseek(p[0], 0, SEEK_HOLE), ESPIPE);
	DONE();
}

/* fallocate: extending, KEEP_SIZE, punching holes and zeroing ranges, and its errors. */
#include "check.h"
#include <linux/falloc.h>

int main(void)
{
	char path[] = "/tmp/fallocate.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_OK(unlink(path));
	struct stat st;
	CHECK_OK(fallocate(fd, 0, 0, 8192));
	CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
	/* KEEP_SIZE allocates beyond the end without changing the size. */
	CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
	/* Data, then a hole punched in it reads as zeros; the size stays. */
	char page[4096];
	memset(page, 'x', sizeof page);
	CHECK(pwrite(fd, page, sizeof page, 0) == sizeof page);
	CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	char back[4096];
	CHECK(pread(fd, back, sizeof back, 0) == sizeof back);
	int zeros = 1;
	for (size_t i = 0; i < sizeof back; i++)
		zeros &= back[i] == 0;
	CHECK(zeros);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 8192);
	/* A hole needs KEEP_SIZE. */
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
	/* Bad arguments. */
	CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(fd, 0, -1, 4096), EINVAL);
	CHECK_ERR(fallocate(fd, 0x100, 0, 4096), EOPNOTSUPP);
	CHECK_ERR(fallocate(-1, 0, 0, 4096), EBADF);
	int ro = open("/etc/hostname", O_RDONLY);
	CHECK_ERR(fallocate(ro, 0, 0, 4096), EBADF);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fallocate(p[1], 0, 0, 4096), ESPIPE);
	int d = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK_ERR(fallocate(d, 0, 0, 4096), EBADF);
	DONE();
}

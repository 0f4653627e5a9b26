#include "check.h"

int main(void)
{
	struct stat a, b, c, d;
	CHECK_OK(stat("/etc/passwd", &a));
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK_OK(fstat(fd, &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size && a.st_mode == b.st_mode);
	CHECK_OK(fstatat(AT_FDCWD, "/etc/passwd", &c, 0));
	CHECK(c.st_ino == a.st_ino);
	CHECK_OK(fstatat(fd, "", &d, AT_EMPTY_PATH));
	CHECK(d.st_ino == a.st_ino);
	CHECK_ERR(fstatat(fd, "", &d, 0), ENOENT);
	CHECK_ERR(fstatat(AT_FDCWD, "/etc/passwd", &d, 0x1), EINVAL);
	int dir = open("/etc", O_RDONLY);
	CHECK_OK(fstatat(dir, "passwd", &d, 0));
	CHECK(d.st_ino == a.st_ino);
	struct statx x;
	CHECK_OK(statx(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, &x));
	CHECK(x.stx_ino == a.st_ino && x.stx_size == (uint64_t)a.st_size && x.stx_mode == a.st_mode);
	CHECK((x.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	CHECK(makedev(x.stx_dev_major, x.stx_dev_minor) == a.st_dev);
	CHECK_ERR(statx(AT_FDCWD, "/etc/passwd", 0, 0x80000000, &x), EINVAL);
	CHECK_ERR(fstat(9999, &a), EBADF);
	CHECK(S_ISDIR(({ struct stat s; stat("/", &s); s.st_mode; })));
	CHECK(a.st_nlink >= 1 && a.st_blksize > 0);
	DONE();
}

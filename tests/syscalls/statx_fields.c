/* statx: the mask asked and returned, what matches stat, and its errors. */
#include "check.h"

int main(void)
{
	struct statx sx;
	struct stat st;
	CHECK_OK(statx(AT_FDCWD, "/etc/hostname", 0, STATX_BASIC_STATS, &sx));
	CHECK_OK(stat("/etc/hostname", &st));
	CHECK((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	CHECK(sx.stx_ino == st.st_ino && sx.stx_size == (unsigned long long)st.st_size);
	CHECK(sx.stx_mode == st.st_mode && sx.stx_nlink == st.st_nlink);
	CHECK(sx.stx_uid == st.st_uid && sx.stx_gid == st.st_gid);
	CHECK(makedev(sx.stx_dev_major, sx.stx_dev_minor) == st.st_dev);
	CHECK(sx.stx_mtime.tv_sec == st.st_mtim.tv_sec && sx.stx_mtime.tv_nsec == (unsigned)st.st_mtim.tv_nsec);
	CHECK(sx.stx_blksize == (unsigned)st.st_blksize);
	/* A symlink itself, and through it. */
	CHECK_OK(statx(AT_FDCWD, "/proc/self/exe", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
	CHECK(S_ISLNK(sx.stx_mode));
	CHECK_OK(statx(AT_FDCWD, "/proc/self/exe", 0, STATX_TYPE, &sx));
	CHECK(S_ISREG(sx.stx_mode));
	/* By descriptor with AT_EMPTY_PATH. */
	int fd = open("/etc/hostname", O_RDONLY);
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_INO, &sx));
	CHECK(sx.stx_ino == st.st_ino);
	CHECK_ERR(statx(fd, "", 0, STATX_INO, &sx), ENOENT);
	/* Sync flags are accepted; both at once, unknown flags or the reserved mask bit are not. */
	CHECK_OK(statx(AT_FDCWD, "/", AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &sx));
	CHECK_OK(statx(AT_FDCWD, "/", AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx));
	CHECK_ERR(statx(AT_FDCWD, "/", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, 0, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "/", 0x40000000, 0, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "/", 0, 0x80000000U, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "/nonexistent", 0, STATX_BASIC_STATS, &sx), ENOENT);
	CHECK_ERR(syscall(SYS_statx, AT_FDCWD, "/", 0, STATX_BASIC_STATS, NULL), EFAULT);
	CHECK_ERR(statx(-1, "x", 0, STATX_BASIC_STATS, &sx), EBADF);
	DONE();
}

/* chmod of symlinks and by descriptor: fchmodat2 with AT_SYMLINK_NOFOLLOW on a symlink is
 * EOPNOTSUPP (Linux cannot change a symlink's mode) and follows nothing, on a regular file
 * it works; AT_EMPTY_PATH changes the descriptor's file (also an O_PATH one); fchmod of an
 * O_PATH descriptor is EBADF; the old fchmodat has no flags argument; bad flags EINVAL. */
#include "check.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static mode_t mode_of(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

int main(void)
{
	scratch_init("fchmodat");
	CHECK_OK(put_text(S("f"), "x"));
	CHECK_OK(chmod(S("f"), 0644));
	CHECK_OK(symlink("f", S("l")));

	/* A symlink: not changeable, and the target stays as it was. */
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, S("l"), 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	CHECK(mode_of(S("f")) == 0644);
	CHECK(mode_of(S("l")) == 0777);
	/* Without the flag it follows. */
	CHECK_OK(syscall(SYS_fchmodat2, AT_FDCWD, S("l"), 0600, 0));
	CHECK(mode_of(S("f")) == 0600);
	/* A regular file with AT_SYMLINK_NOFOLLOW is just chmod. */
	CHECK_OK(syscall(SYS_fchmodat2, AT_FDCWD, S("f"), 0640, AT_SYMLINK_NOFOLLOW));
	CHECK(mode_of(S("f")) == 0640);
	/* glibc's lchmod is the same call. */
	CHECK_ERR(lchmod(S("l"), 0600), EOPNOTSUPP);
	CHECK_OK(lchmod(S("f"), 0604));
	CHECK(mode_of(S("f")) == 0604);

	/* AT_EMPTY_PATH: the descriptor's file, O_PATH included. */
	int fd = open(S("f"), O_RDONLY);
	CHECK_OK(syscall(SYS_fchmodat2, fd, "", 0611, AT_EMPTY_PATH));
	CHECK(mode_of(S("f")) == 0611);
	int pfd = open(S("f"), O_PATH);
	CHECK_OK(syscall(SYS_fchmodat2, pfd, "", 0612, AT_EMPTY_PATH));
	CHECK(mode_of(S("f")) == 0612);
	CHECK_ERR(fchmod(pfd, 0600), EBADF);
	CHECK_ERR(syscall(SYS_fchmodat2, fd, "", 0600, 0), ENOENT);
	/* An O_PATH descriptor of the symlink itself. */
	int lfd = open(S("l"), O_PATH | O_NOFOLLOW);
	CHECK(lfd >= 0);
	CHECK_ERR(syscall(SYS_fchmodat2, lfd, "", 0600, AT_EMPTY_PATH), EOPNOTSUPP);

	/* Bad flags; the old fchmodat takes none (a fourth argument is not read). */
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, S("f"), 0600, 0x1), EINVAL);
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, S("f"), 0600, AT_SYMLINK_FOLLOW), EINVAL);
	CHECK_OK(syscall(SYS_fchmodat, AT_FDCWD, S("l"), 0644, AT_SYMLINK_NOFOLLOW));
	CHECK(mode_of(S("f")) == 0644); /* followed */
	CHECK_ERR(syscall(SYS_fchmodat2, AT_FDCWD, S("nope"), 0600, 0), ENOENT);
	CHECK_ERR(syscall(SYS_fchmodat2, -1, "rel", 0600, 0), EBADF);
	scratch_cleanup();
	DONE();
}

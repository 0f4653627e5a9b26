/* O_PATH descriptors: a location, not an open file — what works through them and what is
 * EBADF. */
#include "check.h"
#include <sys/ioctl.h>
#include <sys/xattr.h>

int main(void)
{
	int f = open("/etc/hostname", O_PATH);
	CHECK(f >= 0);
	char buf[8];
	CHECK_ERR(read(f, buf, sizeof buf), EBADF);
	CHECK_ERR(write(f, "x", 1), EBADF);
	CHECK_ERR(fchmod(f, 0644), EBADF);
	CHECK_ERR(ioctl(f, FIONREAD, &(int){0}), EBADF);
	CHECK_ERR(fgetxattr(f, "user.x", buf, sizeof buf), EBADF);
	CHECK_ERR(lseek(f, 0, SEEK_SET), EBADF);
	CHECK_ERR(fsync(f), EBADF);
	/* fstat, fcntl, dup and close work. */
	struct stat st, st2;
	CHECK_OK(fstat(f, &st));
	CHECK_OK(stat("/etc/hostname", &st2));
	CHECK(st.st_ino == st2.st_ino);
	CHECK(fcntl(f, F_GETFL) & O_PATH);
	int g = dup(f);
	CHECK(g >= 0);
	CHECK_OK(close(g));
	/* Reopened through /proc/self/fd it is a real file again. */
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", f);
	int r = open(self, O_RDONLY);
	CHECK(r >= 0 && read(r, buf, 1) == 1);
	/* A directory opened with O_PATH anchors *at calls and fchdir. */
	int d = open("/etc", O_PATH | O_DIRECTORY);
	CHECK(d >= 0);
	CHECK_OK(fstatat(d, "hostname", &st2, 0));
	int h = openat(d, "hostname", O_RDONLY);
	CHECK(h >= 0);
	CHECK_ERR(syscall(SYS_getdents64, d, buf, sizeof buf), EBADF);
	CHECK_OK(fchdir(d));
	CHECK_OK(access("hostname", R_OK));
	/* O_PATH on a symlink with O_NOFOLLOW refers to the link itself. */
	char link[] = "/tmp/o_path_link.XXXXXX";
	CHECK(mkstemp(link) >= 0);
	CHECK_OK(unlink(link));
	CHECK_OK(symlink("/etc/hostname", link));
	int l = open(link, O_PATH | O_NOFOLLOW);
	CHECK(l >= 0 && fstat(l, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK_ERR(open(link, O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_OK(unlink(link));
	/* Flags other than O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW are ignored with O_PATH. */
	int x = open("/etc/hostname", O_PATH | O_WRONLY | O_TRUNC);
	CHECK(x >= 0 && fstat(x, &st) == 0 && st.st_size == st2.st_size);
	DONE();
}

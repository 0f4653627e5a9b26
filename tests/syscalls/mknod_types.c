/* mknod/mknodat: fifos, sockets, regular files (also with no type bits), character devices
 * that work like the real ones (as root), the umask, and the refusals: directories (EPERM),
 * unknown types (EINVAL), existing names (EEXIST), devices made by an unprivileged user (EPERM). */
#include "check.h"
#include <sys/wait.h>

int main(void)
{
	scratch_init("mknod");
	umask(0);

	CHECK_OK(mknod(S("fifo"), S_IFIFO | 0640, 0));
	struct stat st;
	CHECK_OK(lstat(S("fifo"), &st));
	CHECK(S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0640);
	int fd = open(S("fifo"), O_RDWR | O_NONBLOCK);
	CHECK(fd >= 0);
	CHECK(write(fd, "ab", 2) == 2);
	char b[8];
	CHECK(read(fd, b, sizeof b) == 2);
	close(fd);

	CHECK_OK(mknod(S("sock"), S_IFSOCK | 0600, 0));
	CHECK_OK(lstat(S("sock"), &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_ERR(open(S("sock"), O_RDONLY), ENXIO);

	CHECK_OK(mknod(S("reg"), S_IFREG | 0604, 0));
	CHECK_OK(lstat(S("reg"), &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0604 && st.st_size == 0);
	CHECK_OK(mknod(S("notype"), 0600, 0));
	CHECK_OK(lstat(S("notype"), &st));
	CHECK(S_ISREG(st.st_mode));

	/* Character devices, as root: a private /dev/null and /dev/zero. */
	CHECK_OK(mknod(S("null"), S_IFCHR | 0666, makedev(1, 3)));
	CHECK_OK(lstat(S("null"), &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
	fd = open(S("null"), O_RDWR);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello", 5) == 5);
	CHECK(read(fd, b, sizeof b) == 0);
	close(fd);
	CHECK_OK(mknod(S("zero"), S_IFCHR | 0444, makedev(1, 5)));
	fd = open(S("zero"), O_RDONLY);
	CHECK(fd >= 0);
	memset(b, 'x', sizeof b);
	CHECK(read(fd, b, sizeof b) == sizeof b && b[0] == 0 && b[7] == 0);
	close(fd);

	/* The umask applies to the permission bits. */
	umask(022);
	CHECK_OK(mknodat(open(scratch_base(), O_RDONLY | O_DIRECTORY), "fifo2", S_IFIFO | 0666, 0));
	CHECK_OK(lstat(S("fifo2"), &st));
	CHECK((st.st_mode & 07777) == 0644);

	/* Refusals. */
	CHECK_ERR(mknod(S("dir"), S_IFDIR | 0755, 0), EPERM);
	CHECK_ERR(mknod(S("bogus"), 0170000 | 0644, 0), EINVAL);
	CHECK_ERR(mknod(S("fifo"), S_IFIFO | 0644, 0), EEXIST);
	CHECK_ERR(mknod(S("nodir/x"), S_IFIFO | 0644, 0), ENOENT);
	CHECK_ERR(mknod(S("reg/x"), S_IFIFO | 0644, 0), ENOTDIR);
	CHECK_ERR(mknodat(-1, "rel", S_IFIFO | 0644, 0), EBADF);

	/* An unprivileged user may make fifos but not devices. */
	CHECK_OK(chmod(scratch_base(), 0777));
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(1000, 1000, 1000) != 0)
			_exit(9);
		int bad = 0;
		if (mknod(S("ufifo"), S_IFIFO | 0600, 0) != 0)
			bad |= 1;
		if (mknod(S("unull"), S_IFCHR | 0600, makedev(1, 3)) != -1 || errno != EPERM)
			bad |= 2;
		if (mknod(S("ublk"), S_IFBLK | 0600, makedev(7, 0)) != -1 || errno != EPERM)
			bad |= 4;
		_exit(bad);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	if (WEXITSTATUS(status))
		fprintf(stderr, "unprivileged checks failed: mask %d\n", WEXITSTATUS(status));
	CHECK(WEXITSTATUS(status) == 0);
	CHECK_OK(lstat(S("ufifo"), &st));
	CHECK(st.st_uid == 1000);

	scratch_cleanup();
	DONE();
}

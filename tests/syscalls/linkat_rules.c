/* link/linkat: the new name is the same inode (nlink, ctime), a symlink is linked as itself
 * unless AT_SYMLINK_FOLLOW, AT_EMPTY_PATH links an open file,
 * a removed file cannot get a name back (ENOENT) while an O_TMPFILE one can, directories
 * are EPERM, and the errors: EEXIST, ENOENT, ENOTDIR, EXDEV, EINVAL, EACCES. Without
 * CAP_DAC_READ_SEARCH, AT_EMPTY_PATH links only files opened with the same credentials. */
#include "check.h"
#include <sys/prctl.h>
#include <sys/wait.h>

static int inherited = -1;

static int as_user(void)
{
	if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		return 99;
	int bad = 0;
	/* AT_EMPTY_PATH without CAP_DAC_READ_SEARCH: only a file opened with the very same
	 * credentials (not ones changed since, not a parent's) — ENOENT otherwise. */
	if (linkat(inherited, "", AT_FDCWD, S("udir/e"), AT_EMPTY_PATH) != -1 || errno != ENOENT)
		bad |= 1;
	int fd = open(S("mine"), O_RDONLY);
	if (fd < 0)
		return 98;
	if (linkat(fd, "", AT_FDCWD, S("udir/e"), AT_EMPTY_PATH) != 0)
		bad |= 8;
	pid_t c = fork();
	if (c == 0)
		_exit(linkat(fd, "", AT_FDCWD, S("udir/e2"), AT_EMPTY_PATH) == -1 && errno == ENOENT
			      ? 0
			      : 1);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad |= 16;
	/* setresuid changing nothing keeps the credentials; a real change makes new ones. */
	if (setresuid(1000, 1000, 1000) ||
	    linkat(fd, "", AT_FDCWD, S("udir/e3"), AT_EMPTY_PATH) != 0)
		bad |= 32;
	if (prctl(PR_SET_KEEPCAPS, 1) ||
	    linkat(fd, "", AT_FDCWD, S("udir/e4"), AT_EMPTY_PATH) != -1 || errno != ENOENT)
		bad |= 64;
	/* No write permission on the directory. */
	if (link(S("mine"), S("ro/x")) != -1 || errno != EACCES)
		bad |= 2;
	if (link(S("mine"), S("udir/ok")) != 0)
		bad |= 4;
	return bad;
}

int main(void)
{
	scratch_init("linkat");
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(put_text(S("f"), "data"));
	struct stat a, b;
	CHECK_OK(stat(S("f"), &a));
	usleep(10000);
	CHECK_OK(link(S("f"), S("g")));
	CHECK_OK(stat(S("g"), &b));
	CHECK(a.st_ino == b.st_ino && b.st_nlink == 2);
	CHECK(b.st_ctim.tv_sec > a.st_ctim.tv_sec ||
	      (b.st_ctim.tv_sec == a.st_ctim.tv_sec && b.st_ctim.tv_nsec > a.st_ctim.tv_nsec));

	/* Symlinks: link(2) and linkat without the flag link the symlink itself. */
	CHECK_OK(symlink("f", S("sl")));
	CHECK_OK(link(S("sl"), S("sl2")));
	CHECK_OK(lstat(S("sl2"), &b));
	CHECK(S_ISLNK(b.st_mode));
	CHECK_OK(linkat(AT_FDCWD, S("sl"), AT_FDCWD, S("sl3"), AT_SYMLINK_FOLLOW));
	CHECK_OK(lstat(S("sl3"), &b));
	CHECK(S_ISREG(b.st_mode) && b.st_ino == a.st_ino && b.st_nlink == 3);
	CHECK_OK(symlink("nowhere", S("dangling")));
	CHECK_ERR(linkat(AT_FDCWD, S("dangling"), AT_FDCWD, S("d2"), AT_SYMLINK_FOLLOW), ENOENT);
	CHECK_OK(linkat(AT_FDCWD, S("dangling"), AT_FDCWD, S("d3"), 0));

	/* AT_EMPTY_PATH, as root: the open file (also an O_PATH one). */
	int fd = open(S("f"), O_RDONLY);
	CHECK_OK(linkat(fd, "", AT_FDCWD, S("e1"), AT_EMPTY_PATH));
	int pfd = open(S("f"), O_PATH);
	CHECK_OK(linkat(pfd, "", AT_FDCWD, S("e2"), AT_EMPTY_PATH));
	CHECK_OK(stat(S("e2"), &b));
	CHECK(b.st_ino == a.st_ino && b.st_nlink == 5);
	CHECK_ERR(linkat(fd, "", AT_FDCWD, S("e3"), 0), ENOENT);
	/* ...and through /proc/self/fd with AT_SYMLINK_FOLLOW. */
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	CHECK_OK(linkat(AT_FDCWD, proc, AT_FDCWD, S("e4"), AT_SYMLINK_FOLLOW));
	CHECK_OK(stat(S("e4"), &b));
	CHECK(b.st_ino == a.st_ino);

	/* A removed file cannot be named again; an O_TMPFILE one can. */
	CHECK_OK(put_text(S("gone"), "x"));
	int gfd = open(S("gone"), O_RDONLY);
	CHECK_OK(unlink(S("gone")));
	CHECK_ERR(linkat(gfd, "", AT_FDCWD, S("back"), AT_EMPTY_PATH), ENOENT);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", gfd);
	CHECK_ERR(linkat(AT_FDCWD, proc, AT_FDCWD, S("back"), AT_SYMLINK_FOLLOW), ENOENT);
	int tfd = open(scratch_base(), O_TMPFILE | O_RDWR, 0600);
	CHECK(tfd >= 0);
	CHECK_OK(linkat(tfd, "", AT_FDCWD, S("tmp"), AT_EMPTY_PATH));
	CHECK_OK(fstat(tfd, &b));
	CHECK(b.st_nlink == 1);

	/* Errors. */
	CHECK_ERR(link(S("f"), S("g")), EEXIST);
	CHECK_ERR(link(S("f"), S("sl")), EEXIST); /* a symlink is not followed as the target */
	CHECK_ERR(link(S("nope"), S("n")), ENOENT);
	CHECK_ERR(link(S("f"), S("nodir/n")), ENOENT);
	CHECK_ERR(link(S("f/x"), S("n")), ENOTDIR);
	CHECK_ERR(link(S("f"), S("g/n")), ENOTDIR);
	CHECK_OK(mkdir(S("dir"), 0755));
	CHECK_ERR(link(S("dir"), S("dir2")), EPERM);
	CHECK_ERR(linkat(AT_FDCWD, S("f"), AT_FDCWD, S("x"), 0x1), EINVAL);
	CHECK_ERR(linkat(AT_FDCWD, S("f"), AT_FDCWD, S("x"), AT_SYMLINK_NOFOLLOW), EINVAL);
	CHECK_ERR(linkat(-1, "rel", AT_FDCWD, S("x"), 0), EBADF);
	CHECK_ERR(linkat(fd, "rel", AT_FDCWD, S("x"), 0), ENOTDIR);
	CHECK_ERR(link(S("f"), "/dev/shm/palisade-xdev"), EXDEV);

	/* As an unprivileged user. */
	CHECK_OK(put_text(S("mine"), "m"));
	CHECK_OK(chown(S("mine"), 1000, 1000));
	CHECK_OK(mkdir(S("udir"), 0755));
	CHECK_OK(chown(S("udir"), 1000, 1000));
	CHECK_OK(mkdir(S("ro"), 0755));
	inherited = open(S("mine"), O_RDONLY);
	check_child(as_user, "as_user");
	scratch_cleanup();
	DONE();
}

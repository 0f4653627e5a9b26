/* umount2: EBUSY while a file, a working directory or a mount below is in the way, MNT_DETACH
 * hiding the mount at once while open files keep working, MNT_EXPIRE's two calls,
 * UMOUNT_NOFOLLOW on a symlink,
 * EINVAL for what is not a mount point, for unknown flags and for MNT_EXPIRE with
 * MNT_FORCE or MNT_DETACH, EPERM without CAP_SYS_ADMIN. */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define TMPFS_MAGIC 0x01021994

static int is_tmpfs(const char *p)
{
	struct statfs sf;
	return statfs(p, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("umount");
	const char *m = strdup(S("m"));
	CHECK_OK(mkdir(m, 0755));
	/* /tmp is tmpfs in some places: compare device numbers, not types, below. */
	struct stat below, on;
	CHECK_OK(stat(m, &below));
	CHECK_OK(mount("t", m, "tmpfs", 0, "size=1m"));
	CHECK(is_tmpfs(m));

	/* Busy: an open file. */
	char f[128];
	snprintf(f, sizeof f, "%s/file", m);
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK_ERR(umount2(m, 0), EBUSY);
	close(fd);
	/* Busy: a working directory inside. */
	pid_t c = fork();
	if (c == 0) {
		if (chdir(m) != 0)
			_exit(2);
		pause();
		_exit(0);
	}
	usleep(100000);
	CHECK_ERR(umount2(m, 0), EBUSY);
	kill(c, SIGKILL);
	int st;
	waitpid(c, &st, 0);
	/* Busy: a mount below. */
	char sub[128];
	snprintf(sub, sizeof sub, "%s/sub", m);
	CHECK_OK(mkdir(sub, 0755));
	CHECK_OK(mount("t2", sub, "tmpfs", 0, NULL));
	CHECK_ERR(umount2(m, 0), EBUSY);
	CHECK_OK(umount2(sub, 0));

	/* Not mount points, bad flags. */
	CHECK_ERR(umount2(sub, 0), EINVAL);
	CHECK_ERR(umount2(m, 0x100), EINVAL);
	CHECK_ERR(umount2(m, MNT_EXPIRE | MNT_DETACH), EINVAL);
	CHECK_ERR(umount2(m, MNT_EXPIRE | MNT_FORCE), EINVAL);
	CHECK_ERR(umount2(S("nope"), 0), ENOENT);
	/* MNT_EXPIRE: the first call marks an unused mount (EAGAIN), the next unmounts it. */
	CHECK_OK(mount("t2", sub, "tmpfs", 0, NULL));
	CHECK_ERR(umount2(sub, MNT_EXPIRE), EAGAIN);
	CHECK_OK(umount2(sub, MNT_EXPIRE)); /* (any use in between would have cleared the mark) */
	CHECK_ERR(umount2(sub, MNT_EXPIRE), EINVAL);

	/* UMOUNT_NOFOLLOW: a symlink to the mount point is not followed (EINVAL: the link is
	 * no mount point); without it the link leads to the mount. */
	CHECK_OK(symlink(m, S("link")));
	CHECK_ERR(umount2(S("link"), UMOUNT_NOFOLLOW), EINVAL);
	CHECK(is_tmpfs(m));

	/* Without CAP_SYS_ADMIN: EPERM. */
	c = fork();
	if (c == 0) {
		if (setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(umount2(m, 0) == -1 && errno == EPERM ? 0 : 1);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* MNT_DETACH with a file open: gone from the tree at once, the file still works. */
	fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	CHECK_OK(umount2(S("link"), MNT_DETACH));
	CHECK_OK(stat(m, &on));
	CHECK(on.st_dev == below.st_dev && on.st_ino == below.st_ino);
	CHECK_ERR(access(f, F_OK), ENOENT);
	CHECK(write(fd, "still", 5) == 5);
	char b[8];
	CHECK(pread(fd, b, 5, 0) == 5 && memcmp(b, "still", 5) == 0);
	close(fd);
	CHECK_ERR(umount2(m, 0), EINVAL); /* nothing mounted there now */
	scratch_cleanup();
	DONE();
}

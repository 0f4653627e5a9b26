/* Bind mounts inside the sandbox: a directory seen in two places (same inodes, changes seen
 * both ways), a read-only bind over a writable directory, a file bound over a file, EBUSY
 * while in use and MNT_DETACH, and the errors. */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>

static int has_mountinfo(const char *dir)
{
	char buf[65536], needle[300];
	if (read_text("/proc/self/mountinfo", buf, sizeof buf) <= 0)
		return 0;
	snprintf(needle, sizeof needle, " %s ", dir);
	return strstr(buf, needle) != NULL;
}

static int content_is(const char *path, const char *want)
{
	char b[64];
	return read_text(path, b, sizeof b) >= 0 && strcmp(b, want) == 0;
}

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("bind");
	CHECK_OK(mkdir(S("a"), 0755));
	CHECK_OK(mkdir(S("b"), 0755));
	CHECK_OK(put_text(S("a/f"), "from a"));

	CHECK_OK(mount(S("a"), S("b"), NULL, MS_BIND, NULL));
	CHECK(content_is(S("b/f"), "from a"));
	struct stat sa, sb;
	CHECK_OK(stat(S("a/f"), &sa));
	CHECK_OK(stat(S("b/f"), &sb));
	CHECK(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
	CHECK_OK(put_text(S("b/g"), "via b"));
	CHECK(content_is(S("a/g"), "via b"));
	CHECK_OK(unlink(S("a/g")));
	CHECK_ERR(access(S("b/g"), F_OK), ENOENT);
	CHECK(has_mountinfo(S("b")));

	/* A read-only bind: writes through b fail, through a they do not. */
	CHECK_OK(mount(NULL, S("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	CHECK_ERR(open(S("b/new"), O_CREAT | O_WRONLY, 0644), EROFS);
	CHECK_ERR(open(S("b/f"), O_WRONLY), EROFS);
	CHECK_ERR(unlink(S("b/f")), EROFS);
	CHECK_ERR(mkdir(S("b/d"), 0755), EROFS);
	CHECK_OK(put_text(S("a/new"), "a is writable"));
	CHECK(content_is(S("b/new"), "a is writable"));

	/* In use: EBUSY; detached: gone from the tree, open files still work. */
	CHECK_OK(chdir(S("b")));
	CHECK_ERR(umount(S("b")), EBUSY);
	CHECK_OK(chdir("/"));
	int fd = open(S("b/f"), O_RDONLY);
	CHECK(fd >= 0);
	CHECK_OK(umount2(S("b"), MNT_DETACH));
	CHECK_ERR(access(S("b/f"), F_OK), ENOENT);
	char buf[16] = { 0 };
	CHECK(read(fd, buf, sizeof buf) == 6 && strcmp(buf, "from a") == 0);
	close(fd);
	CHECK(!has_mountinfo(S("b")));

	/* A file bound over a file. */
	CHECK_OK(put_text(S("one"), "one"));
	CHECK_OK(put_text(S("two"), "two"));
	CHECK_OK(mount(S("one"), S("two"), NULL, MS_BIND, NULL));
	CHECK(content_is(S("two"), "one"));
	CHECK_OK(umount(S("two")));
	CHECK(content_is(S("two"), "two"));

	/* Errors. */
	CHECK_ERR(mount(S("missing"), S("b"), NULL, MS_BIND, NULL), ENOENT);
	CHECK_ERR(mount(S("a"), S("missing"), NULL, MS_BIND, NULL), ENOENT);
	CHECK_ERR(umount(S("a")), EINVAL);
	CHECK_ERR(umount(S("missing")), ENOENT);

	scratch_cleanup();
	DONE();
}

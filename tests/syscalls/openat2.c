/* openat2: struct open_how checks, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
 * RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV. */
#include "check.h"
#include <linux/openat2.h>

static int o2(int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
	      unsigned long long resolve)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
	return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int main(void)
{
	char dir[64], p[128];
	snprintf(dir, sizeof dir, "/tmp/palisade-openat2-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(p, sizeof p, "%s/sub", dir);
	CHECK_OK(mkdir(p, 0755));
	snprintf(p, sizeof p, "%s/sub/f", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof p, "%s/rel", dir);
	CHECK_OK(symlink("sub/f", p));
	snprintf(p, sizeof p, "%s/abs", dir);
	CHECK_OK(symlink("/sub/f", p));
	snprintf(p, sizeof p, "%s/up", dir);
	CHECK_OK(symlink("../..", p));
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);

	/* The struct: too small, unknown trailing bytes, unknown flags, stray mode. */
	struct open_how how = { .flags = O_RDONLY };
	CHECK_ERR(syscall(SYS_openat2, d, "sub/f", &how, 8), EINVAL);
	char big[64] = { 0 };
	memcpy(big, &how, sizeof how);
	int fd = syscall(SYS_openat2, d, "sub/f", big, sizeof big);
	CHECK(fd >= 0);
	close(fd);
	big[40] = 1;
	CHECK_ERR(syscall(SYS_openat2, d, "sub/f", big, sizeof big), E2BIG);
	CHECK_ERR(o2(d, "sub/f", O_RDONLY, 0644, 0), EINVAL);
	CHECK_ERR(o2(d, "sub/f", 1ULL << 40, 0, 0), EINVAL);
	CHECK_ERR(o2(d, "sub/f", O_RDONLY, 0, 1ULL << 20), EINVAL);
	CHECK_ERR(o2(d, "sub/f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	CHECK_ERR(syscall(SYS_openat2, d, "sub/f", (void *)8, sizeof how), EFAULT);

	/* RESOLVE_BENEATH: relative walks below dirfd are fine, leaving it is EXDEV. */
	fd = o2(d, "sub/../sub/f", O_RDONLY, 0, RESOLVE_BENEATH);
	CHECK(fd >= 0);
	close(fd);
	fd = o2(d, "rel", O_RDONLY, 0, RESOLVE_BENEATH);
	CHECK(fd >= 0);
	close(fd);
	CHECK_ERR(o2(d, "..", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(o2(d, "sub/../../x", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(o2(d, "/etc/passwd", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(o2(d, "abs", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(o2(d, "up", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);

	/* RESOLVE_IN_ROOT: dirfd is "/": absolute symlinks and ".." stay inside. */
	fd = o2(d, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT);
	CHECK(fd >= 0);
	close(fd);
	fd = o2(d, "/sub/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
	CHECK(fd >= 0);
	close(fd);
	fd = o2(d, "up/up/sub/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
	CHECK(fd >= 0);
	close(fd);
	CHECK_ERR(o2(d, "/etc/passwd", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
	/* Creating inside the scoped root. */
	fd = o2(d, "/sub/new", O_CREAT | O_WRONLY, 0600, RESOLVE_IN_ROOT);
	CHECK(fd >= 0);
	close(fd);
	snprintf(p, sizeof p, "%s/sub/new", dir);
	CHECK_OK(access(p, F_OK));

	/* RESOLVE_NO_SYMLINKS and NO_MAGICLINKS. */
	CHECK_ERR(o2(d, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	fd = o2(d, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
	CHECK(fd >= 0);
	close(fd);
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", d);
	CHECK_ERR(o2(AT_FDCWD, self, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	fd = o2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	CHECK(fd >= 0);
	close(fd);

	/* RESOLVE_NO_XDEV: /proc is another mount. */
	CHECK_ERR(o2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	fd = o2(d, "sub/f", O_RDONLY, 0, RESOLVE_NO_XDEV);
	CHECK(fd >= 0);
	close(fd);

	/* RESOLVE_CACHED cannot create. */
	CHECK_ERR(o2(d, "sub/g", O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED), EAGAIN);

	close(d);
	snprintf(p, sizeof p, "%s/sub/new", dir); unlink(p);
	snprintf(p, sizeof p, "%s/sub/f", dir); unlink(p);
	snprintf(p, sizeof p, "%s/sub", dir); rmdir(p);
	snprintf(p, sizeof p, "%s/rel", dir); unlink(p);
	snprintf(p, sizeof p, "%s/abs", dir); unlink(p);
	snprintf(p, sizeof p, "%s/up", dir); unlink(p);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

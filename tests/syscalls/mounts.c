/* mount(2) of tmpfs inside the sandbox: options, the size limit, /proc/self/mounts and
 * mountinfo, read-only remounts, umount2, and the errors. */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>

/* The /proc/self/mounts line for mount point `dir`, or "" */
static void mount_line(const char *file, const char *dir, char *out, size_t n)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char needle[256];
		snprintf(needle, sizeof needle, " %s ", dir);
		if (strstr(line, needle))
			snprintf(out, n, "%s", line);
	}
	fclose(f);
}

int main(void)
{
	/* Natively, keep the mounts to a namespace of our own (the sandbox has one already). */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

	char dir[64], f[96], line[1024];
	snprintf(dir, sizeof dir, "/tmp/palisade-mnt-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	CHECK_OK(mount("none", dir, "tmpfs", MS_NOSUID, "size=64k,mode=700"));
	mount_line("/proc/self/mounts", dir, line, sizeof line);
	CHECK(strncmp(line, "none ", 5) == 0 && strstr(line, " tmpfs rw,nosuid") != NULL);
	CHECK(strstr(line, "size=64k") != NULL && strstr(line, "mode=700") != NULL);
	mount_line("/proc/self/mountinfo", dir, line, sizeof line);
	CHECK(strstr(line, " - tmpfs none rw") != NULL);

	struct stat st;
	CHECK_OK(stat(dir, &st));
	CHECK((st.st_mode & 07777) == 0700);
	struct statfs sf;
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_type == 0x01021994 && sf.f_blocks * sf.f_bsize == 64 * 1024);

	/* The size limit: writes stop at 64 KiB with ENOSPC (a short write first). */
	snprintf(f, sizeof f, "%s/big", dir);
	int fd = open(f, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	static char buf[48 * 1024];
	CHECK(write(fd, buf, sizeof buf) == sizeof buf);
	ssize_t n = write(fd, buf, sizeof buf);
	CHECK(n == 16 * 1024);
	CHECK_ERR(write(fd, buf, sizeof buf), ENOSPC);
	close(fd);
	CHECK_OK(unlink(f));

	/* Read-only remount: changes are EROFS, reading works. */
	snprintf(f, sizeof f, "%s/file", dir);
	fd = open(f, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	CHECK_OK(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	CHECK_ERR(open(f, O_WRONLY), EROFS);
	CHECK_ERR(mkdir(f, 0755), EEXIST);
	char sub[128];
	snprintf(sub, sizeof sub, "%s/sub", dir);
	CHECK_ERR(mkdir(sub, 0755), EROFS);
	CHECK_ERR(unlink(f), EROFS);
	fd = open(f, O_RDONLY);
	CHECK(fd >= 0);
	close(fd);
	mount_line("/proc/self/mounts", dir, line, sizeof line);
	CHECK(strstr(line, " tmpfs ro,") != NULL);
	CHECK_OK(mount(NULL, dir, NULL, MS_REMOUNT, NULL));
	CHECK_OK(mkdir(sub, 0755));

	/* A mount stacked on a mount, and unmounting them in turn. */
	CHECK_OK(mount("inner", sub, "tmpfs", 0, NULL));
	CHECK_ERR(rmdir(sub), EBUSY);
	CHECK_OK(umount2(sub, 0));
	CHECK_OK(rmdir(sub));

	/* Errors. */
	CHECK_ERR(mount("none", dir, "no-such-fs", 0, NULL), ENODEV);
	CHECK_ERR(mount("none", "/tmp/palisade-no-such-dir", "tmpfs", 0, NULL), ENOENT);
	CHECK_ERR(mount("none", f, "tmpfs", 0, NULL), ENOTDIR);
	CHECK_ERR(mount("none", dir, "tmpfs", 0, "bogus_option"), EINVAL);
	CHECK_ERR(umount2(dir, 0x100), EINVAL);
	CHECK_ERR(umount2("/tmp", 0), EINVAL); /* not a mount point */
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(!(mount("none", dir, "tmpfs", 0, NULL) == -1 && errno == EPERM &&
			umount2(dir, 0) == -1 && errno == EPERM));
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Unmounting shows the directory below again: empty. */
	CHECK_OK(umount2(dir, 0));
	CHECK_ERR(stat(f, &st), ENOENT);
	mount_line("/proc/self/mounts", dir, line, sizeof line);
	CHECK(line[0] == 0);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

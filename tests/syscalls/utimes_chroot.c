/* utime, utimes, futimesat, the old getdents record, chroot. */
#include "check.h"
#include <dirent.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <utime.h>

struct old_dirent {
	unsigned long d_ino;
	unsigned long d_off;
	unsigned short d_reclen;
	char d_name[];
};

int main(void)
{
	char dir[64], f[96];
	snprintf(dir, sizeof dir, "/tmp/palisade-utimes-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(f, sizeof f, "%s/file", dir);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	struct stat st;

	struct utimbuf ub = { .actime = 1000000000, .modtime = 1100000000 };
	CHECK_OK(utime(f, &ub));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_atime == 1000000000 && st.st_mtime == 1100000000 && st.st_mtim.tv_nsec == 0);
	struct timeval tv[2] = { { 1200000000, 5 }, { 1300000000, 999999 } };
	CHECK_OK(utimes(f, tv));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtime == 1300000000 && st.st_mtim.tv_nsec == 999999000);
	CHECK(st.st_atim.tv_nsec == 5000);
	tv[1].tv_usec = 1000000;
	CHECK_ERR(utimes(f, tv), EINVAL);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	tv[1].tv_usec = 0;
	CHECK_OK(futimesat(dfd, "file", tv));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtime == 1300000000 && st.st_mtim.tv_nsec == 0);
	time_t before = time(NULL);
	CHECK_OK(utime(f, NULL));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_mtime >= before);
	CHECK_ERR(utime("/tmp/palisade-no-such-file", NULL), ENOENT);

	/* getdents: the old record, d_type in its last byte. */
	char buf[4096];
	long n = syscall(SYS_getdents, dfd, buf, sizeof buf);
	CHECK(n > 0);
	int seen_file = 0, seen_dot = 0;
	for (long off = 0; off < n;) {
		struct old_dirent *d = (struct old_dirent *)(buf + off);
		char type = buf[off + d->d_reclen - 1];
		if (strcmp(d->d_name, "file") == 0)
			seen_file = (type == DT_REG) && d->d_ino == st.st_ino;
		if (strcmp(d->d_name, ".") == 0)
			seen_dot = type == DT_DIR;
		off += d->d_reclen;
	}
	CHECK(seen_file && seen_dot);
	CHECK(syscall(SYS_getdents, dfd, buf, sizeof buf) == 0);
	CHECK(lseek(dfd, 0, SEEK_SET) == 0);
	CHECK_ERR(syscall(SYS_getdents, dfd, buf, 4), EINVAL);
	close(dfd);

	/* chroot: a child sees the directory as its root; non-root callers get EPERM. */
	pid_t pid = fork();
	if (pid == 0) {
		if (chroot(dir) != 0 || chdir("/") != 0)
			_exit(2);
		struct stat s2;
		int bad = stat("/file", &s2) != 0;
		bad |= (stat("/../file", &s2) != 0) << 1; /* .. stops at the new root */
		bad |= (access("/tmp", F_OK) == 0) << 2;
		char cwd[64];
		bad |= (getcwd(cwd, sizeof cwd) == NULL || strcmp(cwd, "/") != 0) << 3;
		_exit(bad);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pid = fork();
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(!(chroot("/tmp") == -1 && errno == EPERM));
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_ERR(chroot(f), ENOTDIR);
	unlink(f);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

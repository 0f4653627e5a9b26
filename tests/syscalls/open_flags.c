/* open(2) flags on a writable root: O_APPEND with offsets shared by dup and fork, O_EXCL,
 * O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_CREAT through a dangling symlink, trailing
 * slashes, AT_EMPTY_PATH. */
#include "check.h"
#include <sys/wait.h>

int main(void)
{
	char dir[64], f[96], l[96], dang[96], target[96];
	snprintf(dir, sizeof dir, "/tmp/palisade-oflags-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	snprintf(dang, sizeof dang, "%s/dangling", dir);
	snprintf(target, sizeof target, "%s/target", dir);

	int fd = open(f, O_CREAT | O_EXCL | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK_ERR(open(f, O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
	CHECK(write(fd, "0123456789", 10) == 10);
	/* dup and fork share the offset. */
	int d2 = dup(fd);
	CHECK(lseek(fd, 2, SEEK_SET) == 2);
	CHECK(lseek(d2, 0, SEEK_CUR) == 2);
	pid_t pid = fork();
	if (pid == 0) {
		lseek(fd, 7, SEEK_SET);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	CHECK(lseek(d2, 0, SEEK_CUR) == 7);
	/* Separate opens do not. */
	int other = open(f, O_RDONLY);
	CHECK(lseek(other, 0, SEEK_CUR) == 0);
	close(other);
	close(d2);
	close(fd);

	/* O_APPEND: every write at the end, whatever the offset. */
	fd = open(f, O_WRONLY | O_APPEND);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(write(fd, "ab", 2) == 2);
	CHECK(lseek(fd, 0, SEEK_CUR) == 12);
	CHECK(pwrite(fd, "Z", 1, 0) == 1); /* Linux appends pwrite on O_APPEND files too */
	close(fd);
	struct stat st;
	CHECK_OK(stat(f, &st));
	CHECK(st.st_size == 13);

	/* O_TRUNC empties; with O_RDONLY it still truncates on Linux for a writable file. */
	fd = open(f, O_WRONLY | O_TRUNC);
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 0);
	close(fd);

	/* O_DIRECTORY, trailing slashes. */
	CHECK_ERR(open(f, O_RDONLY | O_DIRECTORY), ENOTDIR);
	char slash[100];
	snprintf(slash, sizeof slash, "%s/", f);
	CHECK_ERR(open(slash, O_RDONLY), ENOTDIR);
	snprintf(slash, sizeof slash, "%s/new/", dir);
	CHECK_ERR(open(slash, O_CREAT | O_WRONLY, 0644), EISDIR);
	CHECK_ERR(open(dir, O_WRONLY), EISDIR);

	/* Symlinks: O_NOFOLLOW refuses the last one; O_CREAT through a dangling one makes its
	 * target. */
	CHECK_OK(symlink("f", l));
	CHECK_ERR(open(l, O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_OK(symlink("target", dang));
	fd = open(dang, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_OK(access(target, F_OK));
	CHECK_ERR(open(dang, O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);

	/* O_PATH: names the file, allows fstat and *at calls, not I/O. */
	int p = open(l, O_PATH | O_NOFOLLOW);
	CHECK(p >= 0);
	CHECK_OK(fstat(p, &st));
	CHECK(S_ISLNK(st.st_mode));
	char c;
	CHECK_ERR(read(p, &c, 1), EBADF);
	close(p);
	p = open(dir, O_PATH | O_DIRECTORY);
	CHECK(p >= 0);
	CHECK_OK(fstatat(p, "f", &st, 0));
	CHECK_OK(fstatat(p, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_ERR(fstatat(p, "", &st, 0), ENOENT);
	fd = openat(p, "f", O_RDONLY);
	CHECK(fd >= 0);
	close(fd);
	close(p);

	unlink(target);
	unlink(dang);
	unlink(l);
	unlink(f);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

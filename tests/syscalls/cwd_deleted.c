/* A working directory that is removed: getcwd says ENOENT (the syscall; the path is gone),
 * "." still stats, with nlink 0; nothing can be created or found in it and listing it is
 * ENOENT (Linux's dead directory); ".." still leads to the old parent; /proc/self/cwd ends in
 * " (deleted)". The same through a descriptor of the directory opened before. */
#include "check.h"
#include <dirent.h>

int main(void)
{
	scratch_init("cwddel");
	char dir[256];
	snprintf(dir, sizeof dir, "%s/gone", scratch_base());
	CHECK_OK(mkdir(dir, 0755));
	int start = open(".", O_RDONLY);
	CHECK_OK(chdir(dir));
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK_OK(rmdir(dir));

	char buf[4096];
	CHECK_ERR(syscall(SYS_getcwd, buf, sizeof buf), ENOENT);
	struct stat st;
	CHECK(stat(".", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0);
	CHECK(fstat(dfd, &st) == 0 && st.st_nlink == 0);
	CHECK_ERR(open("new", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_ERR(mkdir("sub", 0755), ENOENT);
	CHECK_ERR(mkfifo("fifo", 0644), ENOENT);
	CHECK_ERR(symlink("x", "link"), ENOENT);
	CHECK_ERR(openat(dfd, "new", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_ERR(open("missing", O_RDONLY), ENOENT);
	char d[4096];
	CHECK_ERR(syscall(SYS_getdents64, dfd, d, sizeof d), ENOENT);
	/* ".." is still the parent it had. */
	struct stat parent, scratch;
	CHECK_OK(stat("..", &parent));
	CHECK_OK(stat(scratch_base(), &scratch));
	CHECK(parent.st_ino == scratch.st_ino && parent.st_dev == scratch.st_dev);
	ssize_t n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
	CHECK(n > 0);
	if (n > 0) {
		buf[n] = 0;
		char want[300];
		snprintf(want, sizeof want, "%s (deleted)", dir);
		CHECK(strcmp(buf, want) == 0);
	}
	/* A new directory of the same name is another one. */
	CHECK_OK(mkdir(dir, 0755));
	CHECK_OK(stat(dir, &st));
	struct stat here;
	CHECK(stat(".", &here) == 0 && here.st_ino != st.st_ino);
	CHECK_ERR(open("new", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_OK(chdir(".."));
	CHECK(syscall(SYS_getcwd, buf, sizeof buf) > 0 && strcmp(buf, scratch_base()) == 0);
	CHECK_OK(fchdir(start));
	close(dfd);
	scratch_cleanup();
	DONE();
}

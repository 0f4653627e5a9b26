/* execveat: a path relative to a directory descriptor, AT_EMPTY_PATH on an open executable,
 * AT_SYMLINK_NOFOLLOW refusing a symlink, and the errors. */
#include "check.h"
#include <sys/wait.h>

static int run(int dirfd, const char *path, int flags)
{
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = {"true", NULL}, *envp[] = {NULL};
		syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		_exit(100 + errno);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(void)
{
	int bin = open("/bin", O_RDONLY | O_DIRECTORY);
	CHECK(bin >= 0);
	CHECK(run(bin, "true", 0) == 0);
	CHECK(run(AT_FDCWD, "/bin/true", 0) == 0);
	/* An absolute path ignores the directory descriptor. */
	CHECK(run(999, "/bin/true", 0) == 0);
	int exe = open("/bin/true", O_RDONLY);
	CHECK(run(exe, "", AT_EMPTY_PATH) == 0);
	CHECK(run(exe, "", 0) == 100 + ENOENT);
	CHECK(run(exe, "true", 0) == 100 + ENOTDIR);
	CHECK(run(bin, "no-such-program", 0) == 100 + ENOENT);
	CHECK(run(999, "true", 0) == 100 + EBADF);
	CHECK(run(bin, "true", 0x4000) == 100 + EINVAL);
	/* A symlink as the last component. */
	const char *link = fixture("link_to_passwd");
	CHECK(run(AT_FDCWD, link, AT_SYMLINK_NOFOLLOW) == 100 + ELOOP);
	DONE();
}

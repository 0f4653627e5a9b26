/* Directory descriptors for the *at calls: a relative path needs a directory (ENOTDIR for
 * a file, EBADF for a closed number), an absolute path ignores dirfd entirely (even a bad
 * one), O_PATH directory descriptors work as dirfd and for fchdir, a removed directory's
 * descriptor finds nothing new (ENOENT), fchdir refuses files (ENOTDIR) and needs search
 * permission, and reading or writing a directory descriptor is EISDIR / EBADF. */
#include "check.h"
#include <dirent.h>
#include <sys/wait.h>

int main(void)
{
	scratch_init("dirfd");
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(mkdir(S("d"), 0755));
	CHECK_OK(put_text(S("d/f"), "data"));
	int d = open(S("d"), O_RDONLY | O_DIRECTORY);
	int f = open(S("d/f"), O_RDONLY);
	int pd = open(S("d"), O_PATH | O_DIRECTORY);
	CHECK(d >= 0 && f >= 0 && pd >= 0);

	/* Relative names from each kind of descriptor. */
	struct stat st;
	CHECK_OK(fstatat(d, "f", &st, 0));
	CHECK_OK(fstatat(pd, "f", &st, 0));
	CHECK_ERR(fstatat(f, "f", &st, 0), ENOTDIR);
	CHECK_ERR(openat(f, "x", O_RDONLY), ENOTDIR);
	CHECK_ERR(mkdirat(f, "x", 0755), ENOTDIR);
	CHECK_ERR(fstatat(999, "f", &st, 0), EBADF);
	CHECK_ERR(fstatat(-5, "f", &st, 0), EBADF);
	/* Absolute paths ignore dirfd, whatever it is. */
	CHECK_OK(fstatat(999, S("d/f"), &st, 0));
	CHECK_OK(fstatat(f, S("d/f"), &st, 0));
	/* O_PATH dirfd: creating, opening, removing through it. */
	int g = openat(pd, "g", O_CREAT | O_WRONLY, 0644);
	CHECK(g >= 0);
	close(g);
	CHECK_OK(renameat(pd, "g", d, "h"));
	CHECK_OK(unlinkat(pd, "h", 0));
	CHECK_OK(mkdirat(pd, "sub", 0755));
	CHECK_OK(unlinkat(d, "sub", AT_REMOVEDIR));

	/* Directory descriptors are not for data. */
	char buf[16];
	CHECK_ERR(read(d, buf, sizeof buf), EISDIR);
	CHECK_ERR(write(d, "x", 1), EBADF);
	CHECK_ERR(read(pd, buf, sizeof buf), EBADF);
	CHECK_ERR(open(S("d"), O_WRONLY), EISDIR);
	CHECK_ERR(open(S("d"), O_RDWR), EISDIR);
	CHECK_ERR(openat(d, ".", O_RDONLY | O_CREAT, 0644), EISDIR);
	CHECK_ERR(open(S("d/f"), O_RDONLY | O_DIRECTORY), ENOTDIR);

	/* fchdir: directories (O_PATH too), not files. */
	int here = open(".", O_RDONLY | O_DIRECTORY);
	CHECK_OK(fchdir(pd));
	CHECK_OK(access("f", R_OK));
	CHECK_OK(fchdir(here));
	CHECK_ERR(fchdir(f), ENOTDIR);
	CHECK_ERR(fchdir(999), EBADF);
	/* fchdir needs search permission on the directory (checked as the caller). */
	CHECK_OK(mkdir(S("noexec"), 0600));
	int ne = open(S("noexec"), O_RDONLY | O_DIRECTORY);
	pid_t c = fork();
	if (c == 0) {
		if (setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(fchdir(ne) == -1 && errno == EACCES ? 0 : 1);
	}
	int ws;
	CHECK(waitpid(c, &ws, 0) == c && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* A removed directory's descriptor: lookups and creations find nothing. */
	CHECK_OK(mkdir(S("gone"), 0755));
	int gd = open(S("gone"), O_RDONLY | O_DIRECTORY);
	CHECK_OK(rmdir(S("gone")));
	CHECK_ERR(openat(gd, "new", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_ERR(mkdirat(gd, "x", 0755), ENOENT);
	CHECK_OK(fstatat(gd, "", &st, AT_EMPTY_PATH));
	CHECK(st.st_nlink == 0);
	CHECK_OK(fstatat(gd, "..", &st, 0));

	/* fdopendir over a dirfd lists it; the descriptor's offset is the stream's. */
	int d2 = dup(d);
	DIR *dir = fdopendir(d2);
	CHECK(dir != NULL);
	int names = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir)))
		names++;
	CHECK(names == 3); /* ".", "..", "f" */
	if (dir)
		closedir(dir);
	scratch_cleanup();
	DONE();
}

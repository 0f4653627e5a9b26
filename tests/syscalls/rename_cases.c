/* rename/renameat2 corner cases: replacing files and empty directories, type mismatches,
 * moving a directory into itself, NOREPLACE, EXCHANGE, hard links to one file, open files
 * and working directories following a rename. */
#include "check.h"

static char base[64];
static char *P(const char *rel)
{
	static char bufs[8][160];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 160, "%s/%s", base, rel);
	return b;
}

static void put(const char *rel, const char *text)
{
	int fd = open(P(rel), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static int has(const char *rel, const char *text)
{
	char b[64] = { 0 };
	int fd = open(P(rel), O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	return n == (ssize_t)strlen(text) && memcmp(b, text, n) == 0;
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/palisade-rename-%d", getpid());
	CHECK_OK(mkdir(base, 0755));
	put("a", "A");
	put("b", "B");
	CHECK_OK(mkdir(P("d"), 0755));
	CHECK_OK(mkdir(P("e"), 0755));
	put("d/in", "IN");

	/* A file replaces a file; the old name is gone. */
	CHECK_OK(rename(P("a"), P("b")));
	CHECK(has("b", "A"));
	CHECK_ERR(access(P("a"), F_OK), ENOENT);
	/* Type mismatches. */
	CHECK_ERR(rename(P("b"), P("e")), EISDIR);
	CHECK_ERR(rename(P("e"), P("b")), ENOTDIR);
	/* A directory replaces an empty one, not a full one. */
	CHECK_ERR(rename(P("e"), P("d")), ENOTEMPTY);
	CHECK_OK(rename(P("d"), P("e")));
	CHECK(has("e/in", "IN"));
	CHECK_ERR(access(P("d"), F_OK), ENOENT);
	/* Into itself. */
	CHECK_OK(mkdir(P("e/sub"), 0755));
	CHECK_ERR(rename(P("e"), P("e/sub/x")), EINVAL);
	/* Missing source, "." and "..". */
	CHECK_ERR(rename(P("nope"), P("x")), ENOENT);
	CHECK_ERR(rename(P("e/."), P("x")), EBUSY);
	/* renameat2 NOREPLACE and EXCHANGE. */
	put("c", "C");
	CHECK_ERR(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("c"), RENAME_NOREPLACE), EEXIST);
	CHECK_OK(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("c"), RENAME_EXCHANGE));
	CHECK(has("b", "C") && has("c", "A"));
	CHECK_OK(renameat2(AT_FDCWD, P("c"), AT_FDCWD, P("e"), RENAME_EXCHANGE)); /* file <-> dir */
	CHECK(has("e", "A") && has("c/in", "IN"));
	CHECK_ERR(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("zz"), RENAME_EXCHANGE), ENOENT);
	CHECK_ERR(renameat2(AT_FDCWD, P("b"), AT_FDCWD, P("e"), RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
	/* Two links to one file: rename does nothing, both names stay. */
	CHECK_OK(link(P("b"), P("b2")));
	CHECK_OK(rename(P("b"), P("b2")));
	CHECK(has("b", "C") && has("b2", "C"));
	/* An open file follows its rename; a working directory too. */
	int fd = open(P("b"), O_RDONLY);
	CHECK_OK(rename(P("b"), P("moved")));
	char buf[8] = { 0 };
	CHECK(read(fd, buf, 1) == 1 && buf[0] == 'C');
	close(fd);
	CHECK_OK(chdir(P("c")));
	CHECK_OK(rename(P("c"), P("c2")));
	char cwd[200];
	CHECK(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, P("c2")) == 0);
	CHECK(access("in", F_OK) == 0);
	/* A removed working directory: getcwd is ENOENT. */
	CHECK_OK(mkdir(P("gone"), 0755));
	CHECK_OK(chdir(P("gone")));
	CHECK_OK(rmdir(P("gone")));
	CHECK(getcwd(cwd, sizeof cwd) == NULL && errno == ENOENT);
	CHECK_OK(chdir("/"));

	unlink(P("c2/in"));
	rmdir(P("c2/sub"));
	rmdir(P("c2"));
	unlink(P("e"));
	unlink(P("b2"));
	unlink(P("moved"));
	CHECK_OK(rmdir(base));
	return failures != 0;
}

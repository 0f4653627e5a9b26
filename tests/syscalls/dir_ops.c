/* Directory operations and their errors: mkdir, rmdir, unlink(at), rename of directories. */
#include "check.h"

static char base[] = "/tmp/dir_ops.XXXXXX";

static const char *p(const char *name)
{
	static char buf[4][4200];
	static int n;
	char *b = buf[n++ % 4];
	snprintf(b, sizeof buf[0], "%s/%s", base, name);
	return b;
}

int main(void)
{
	CHECK(mkdtemp(base) != NULL);
	CHECK_OK(mkdir(p("a"), 0755));
	CHECK_ERR(mkdir(p("a"), 0755), EEXIST);
	CHECK_ERR(mkdir(p("missing/b"), 0755), ENOENT);
	CHECK_OK(mkdir(p("a/b"), 0755));
	int f = open(p("file"), O_CREAT | O_WRONLY, 0644);
	CHECK(f >= 0);
	close(f);
	CHECK_ERR(mkdir(p("file/x"), 0755), ENOTDIR);
	/* rmdir */
	CHECK_ERR(rmdir(p("a")), ENOTEMPTY);
	CHECK_ERR(rmdir(p("file")), ENOTDIR);
	CHECK_ERR(rmdir(p("a/b/.")), EINVAL);
	CHECK_ERR(rmdir(p("a/b/..")), ENOTEMPTY);
	CHECK_ERR(rmdir(p("nothing")), ENOENT);
	/* unlink and unlinkat */
	CHECK_ERR(unlink(p("a")), EISDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, p("file"), AT_REMOVEDIR), ENOTDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, p("file"), 0x1), EINVAL);
	CHECK_ERR(unlink(p("file/")), ENOTDIR);
	/* rename of directories */
	CHECK_ERR(rename(p("a"), p("a/b/c")), EINVAL);
	CHECK_ERR(rename(p("file"), p("a")), EISDIR);
	CHECK_ERR(rename(p("a"), p("file")), ENOTDIR);
	CHECK_OK(mkdir(p("full"), 0755));
	CHECK_OK(mkdir(p("full/x"), 0755));
	CHECK_ERR(rename(p("a"), p("full")), ENOTEMPTY);
	CHECK_OK(mkdir(p("empty"), 0755));
	CHECK_OK(rename(p("a"), p("empty")));
	CHECK_ERR(access(p("a"), F_OK), ENOENT);
	CHECK_OK(access(p("empty/b"), F_OK));
	/* A directory's link count: 2 plus one per subdirectory. */
	struct stat st;
	CHECK(stat(p("empty"), &st) == 0 && st.st_nlink == 3);
	CHECK_OK(rmdir(p("empty/b")));
	CHECK(stat(p("empty"), &st) == 0 && st.st_nlink == 2);
	/* Names too long. */
	char longname[300];
	memset(longname, 'n', 299);
	longname[299] = 0;
	CHECK_ERR(mkdir(p(longname), 0755), ENAMETOOLONG);
	unlink(p("file"));
	rmdir(p("empty"));
	rmdir(p("full/x"));
	rmdir(p("full"));
	CHECK_OK(rmdir(base));
	DONE();
}

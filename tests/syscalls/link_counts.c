/* Link counts and directory entries as files come and go: st_nlink of files and
 * directories, open files outliving their names, rmdir and mkdir errors. */
#include "check.h"

static nlink_t links(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_nlink : (nlink_t)-1;
}

int main(void)
{
	char d[64], sub[96], f[96], h[96], dot[100];
	snprintf(d, sizeof d, "/tmp/palisade-links-%d", getpid());
	snprintf(sub, sizeof sub, "%s/sub", d);
	snprintf(f, sizeof f, "%s/f", d);
	snprintf(h, sizeof h, "%s/h", d);
	CHECK_OK(mkdir(d, 0755));
	CHECK(links(d) == 2);
	CHECK_OK(mkdir(sub, 0755));
	CHECK(links(d) == 3 && links(sub) == 2);
	CHECK_ERR(mkdir(sub, 0755), EEXIST);
	snprintf(dot, sizeof dot, "%s/.", sub);
	CHECK_ERR(rmdir(dot), EINVAL);
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0 && links(f) == 1);
	CHECK_OK(link(f, h));
	CHECK(links(f) == 2 && links(h) == 2);
	CHECK_ERR(link(sub, h), EEXIST);
	snprintf(dot, sizeof dot, "%s/sub2", d);
	CHECK_ERR(link(sub, dot), EPERM); /* no hard links to directories */
	CHECK_ERR(rmdir(d), ENOTEMPTY);
	CHECK_ERR(rmdir(f), ENOTDIR);
	CHECK_ERR(unlink(sub), EISDIR);
	/* A file lives on while open: its link count goes to 0. */
	CHECK_OK(unlink(f));
	CHECK(links(h) == 1);
	CHECK_OK(unlink(h));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_nlink == 0);
	CHECK(write(fd, "still", 5) == 5 && pread(fd, dot, 5, 0) == 5 && memcmp(dot, "still", 5) == 0);
	close(fd);
	/* Directory link counts follow subdirectories in and out, renames included. */
	snprintf(dot, sizeof dot, "%s/sub/inner", d);
	CHECK_OK(mkdir(dot, 0755));
	CHECK(links(sub) == 3);
	snprintf(f, sizeof f, "%s/moved", d);
	CHECK_OK(rename(dot, f));
	CHECK(links(sub) == 2 && links(d) == 4);
	CHECK_OK(rmdir(f));
	CHECK_OK(rmdir(sub));
	CHECK(links(d) == 2);
	CHECK_OK(rmdir(d));
	CHECK_ERR(rmdir(d), ENOENT);
	return failures != 0;
}

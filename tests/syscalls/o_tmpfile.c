/* O_TMPFILE: an unnamed file in a directory, linkable by linkat unless O_EXCL. */
#include "check.h"
#include <sys/wait.h>

int main(void)
{
	char dir[] = "/tmp/o_tmpfile.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	int fd = open(dir, O_TMPFILE | O_RDWR, 0640);
	CHECK(fd >= 0);
	CHECK(write(fd, "tmp", 3) == 3);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_nlink == 0 && (st.st_mode & 0777) == 0640);
	/* Nothing shows in the directory. */
	char path[4200];
	snprintf(path, sizeof path, "%s/named", dir);
	CHECK_ERR(access(path, F_OK), ENOENT);
	/* It gets a name through /proc/self/fd. */
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	CHECK_OK(linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_nlink == 1);
	char buf[8] = {0};
	int r = open(path, O_RDONLY);
	CHECK(r >= 0 && read(r, buf, sizeof buf) == 3 && memcmp(buf, "tmp", 3) == 0);
	/* With O_EXCL it can never be linked. */
	int x = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	CHECK(x >= 0);
	snprintf(self, sizeof self, "/proc/self/fd/%d", x);
	snprintf(path, sizeof path, "%s/excl", dir);
	CHECK_ERR(linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW), ENOENT);
	/* A file whose last name went cannot be given one again. */
	snprintf(path, sizeof path, "%s/gone", dir);
	int g = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(g >= 0);
	CHECK_OK(unlink(path));
	snprintf(self, sizeof self, "/proc/self/fd/%d", g);
	CHECK_ERR(linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW), ENOENT);
	CHECK_ERR(linkat(g, "", AT_FDCWD, path, AT_EMPTY_PATH), ENOENT);
	/* It needs write access, and a directory. */
	CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
	snprintf(path, sizeof path, "%s/named", dir);
	CHECK_ERR(open(path, O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	CHECK_ERR(open("/tmp/o_tmpfile-missing-dir", O_TMPFILE | O_RDWR, 0600), ENOENT);
	/* The umask applies. */
	mode_t old = umask(077);
	int u = open(dir, O_TMPFILE | O_WRONLY, 0666);
	CHECK(u >= 0 && fstat(u, &st) == 0 && (st.st_mode & 0777) == 0600);
	umask(old);
	unlink(path);
	CHECK_OK(rmdir(dir));
	DONE();
}

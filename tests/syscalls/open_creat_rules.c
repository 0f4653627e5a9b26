/* open(O_CREAT) and friends, as Linux decides: creating needs write and search permission
 * on the directory (EACCES) but opening an existing file with O_CREAT does not; the new
 * file's mode is masked by the umask and owned by the fsuid/fsgid; O_EXCL on an existing
 * name (even a dangling symlink) is EEXIST; O_CREAT follows a dangling symlink and creates
 * its target; O_TRUNC needs write permission (EACCES), truncates even with O_RDONLY, and is
 * ignored on fifos and devices; O_NOATIME needs ownership (EPERM); O_DIRECTORY|O_CREAT is
 * EINVAL. */
#include "check.h"
#include <sys/wait.h>

static int run_as(uid_t uid, gid_t gid, int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0) {
		if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(99);
		_exit(fn());
	}
	int st;
	return waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

static int user_checks(void)
{
	int bad = 0;
	/* No write permission on "locked": no new names, but existing files open. */
	if (open(S("locked/new"), O_CREAT | O_WRONLY, 0644) != -1 || errno != EACCES)
		bad |= 1;
	int fd = open(S("locked/open"), O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		bad |= 2;
	close(fd);
	/* Own new file: owned by us, mode masked. */
	umask(027);
	fd = open(S("open/mine"), O_CREAT | O_EXCL | O_WRONLY, 0777);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || st.st_uid != 1000 || st.st_gid != 1000 || (st.st_mode & 0777) != 0750)
		bad |= 4;
	close(fd);
	/* O_TRUNC without write permission. */
	if (open(S("open/rootfile"), O_RDONLY | O_TRUNC) != -1 || errno != EACCES)
		bad |= 8;
	/* O_NOATIME on someone else's file. */
	if (open(S("open/rootfile"), O_RDONLY | O_NOATIME) != -1 || errno != EPERM)
		bad |= 16;
	fd = open(S("open/mine"), O_RDONLY | O_NOATIME);
	if (fd < 0)
		bad |= 32;
	close(fd);
	return bad;
}

int main(void)
{
	scratch_init("creat");
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(mkdir(S("locked"), 0755));
	CHECK_OK(put_text(S("locked/open"), "o"));
	CHECK_OK(chmod(S("locked/open"), 0666));
	CHECK_OK(mkdir(S("open"), 0777));
	CHECK_OK(chmod(S("open"), 0777));
	CHECK_OK(put_text(S("open/rootfile"), "root"));
	CHECK_OK(chmod(S("open/rootfile"), 0644));
	int r = run_as(1000, 1000, user_checks);
	if (r)
		fprintf(stderr, "user checks: %#x\n", r);
	CHECK(r == 0);

	/* O_EXCL and symlinks. */
	CHECK_OK(symlink("target", S("dangling")));
	CHECK_ERR(open(S("dangling"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	int fd = open(S("dangling"), O_CREAT | O_WRONLY, 0640);
	CHECK(fd >= 0);
	close(fd);
	struct stat st;
	CHECK(lstat(S("target"), &st) == 0 && S_ISREG(st.st_mode));
	CHECK_ERR(open(S("target"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	CHECK_ERR(open(S("open"), O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);

	/* O_TRUNC truncates even a read-only open (Linux), and means nothing for a fifo. */
	CHECK_OK(put_text(S("t"), "truncate me"));
	fd = open(S("t"), O_RDONLY | O_TRUNC);
	CHECK(fd >= 0);
	close(fd);
	CHECK(stat(S("t"), &st) == 0 && st.st_size == 0);
	CHECK_OK(mkfifo(S("fifo"), 0644));
	fd = open(S("fifo"), O_RDWR | O_TRUNC);
	CHECK(fd >= 0);
	close(fd);
	fd = open("/dev/null", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	close(fd);

	CHECK_ERR(open(S("newdir"), O_CREAT | O_DIRECTORY | O_RDONLY, 0755), EINVAL);
	CHECK_ERR(access(S("newdir"), F_OK), ENOENT);
	CHECK_ERR(open(S("open"), O_CREAT | O_DIRECTORY | O_RDONLY, 0755), EINVAL);
	scratch_cleanup();
	DONE();
}

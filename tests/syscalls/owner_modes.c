/* chmod/chown rules: who may change what, the set-id bits chown and chmod clear, sticky
 * directories, set-group-id directories, and -1 meaning "unchanged". */
#include "check.h"
#include <grp.h>
#include <sys/wait.h>

static char dir[] = "/tmp/owner_modes.XXXXXX";

static const char *p(const char *name)
{
	static char buf[4][4200];
	static int n;
	char *b = buf[n++ % 4];
	snprintf(b, sizeof buf[0], "%s/%s", dir, name);
	return b;
}

static int as_user(uid_t uid, gid_t gid, void (*f)(void))
{
	pid_t c = fork();
	if (c == 0) {
		gid_t none[1] = { gid };
		if (setgroups(1, none) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(2);
		failures = 0;
		f();
		_exit(failures ? 1 : 0);
	}
	int st = -1;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void other_user(void)
{
	/* Not the owner: no chmod, no chown, no unlink in a sticky directory. */
	CHECK_ERR(chmod(p("rootfile"), 0777), EPERM);
	CHECK_ERR(chown(p("rootfile"), 1000, 1000), EPERM);
	CHECK_ERR(unlink(p("sticky/rootfile")), EPERM);
	/* Its own file: chmod yes; giving it away no; a group it is not in no. */
	int f = open(p("sticky/mine"), O_CREAT | O_WRONLY, 0644);
	CHECK(f >= 0);
	CHECK_OK(fchmod(f, 0600));
	CHECK_ERR(fchown(f, 0, -1), EPERM);
	CHECK_ERR(fchown(f, -1, 0), EPERM);
	CHECK_OK(fchown(f, -1, -1));
	CHECK_OK(fchown(f, 1000, 1000));
	/* Set-group-id stays for its own group; for a group it is not in chmod drops it. */
	CHECK_OK(fchmod(f, 02755));
	struct stat st;
	CHECK(fstat(f, &st) == 0 && (st.st_mode & 07777) == 02755);
	CHECK_OK(chmod(p("theirs"), 02755));
	CHECK(stat(p("theirs"), &st) == 0 && (st.st_mode & 07777) == 0755);
	CHECK_OK(unlink(p("sticky/mine")));
	/* In the set-group-id directory, new files take the directory's group. */
	int g = open(p("setgid/new"), O_CREAT | O_WRONLY, 0644);
	CHECK(g >= 0 && fstat(g, &st) == 0 && st.st_gid == 4242);
	CHECK_OK(mkdir(p("setgid/sub"), 0755));
	CHECK(stat(p("setgid/sub"), &st) == 0 && st.st_gid == 4242 && (st.st_mode & S_ISGID));
	CHECK_OK(unlink(p("setgid/new")));
	CHECK_OK(rmdir(p("setgid/sub")));
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	CHECK_OK(chmod(dir, 0755));
	int f = open(p("rootfile"), O_CREAT | O_WRONLY, 0644);
	CHECK(f >= 0);
	/* chown by root clears set-user-id and (group-executable) set-group-id. */
	CHECK_OK(fchmod(f, 06755));
	CHECK_OK(fchown(f, 0, 0));
	struct stat st;
	CHECK(fstat(f, &st) == 0 && (st.st_mode & 07777) == 0755);
	/* -1 leaves the owner and group as they are. */
	CHECK_OK(fchown(f, 1000, -1));
	CHECK(fstat(f, &st) == 0 && st.st_uid == 1000 && st.st_gid == 0);
	CHECK_OK(fchown(f, -1, 1000));
	CHECK(fstat(f, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
	CHECK_OK(fchown(f, 0, 0));
	/* A symlink's own owner with lchown / AT_SYMLINK_NOFOLLOW. */
	CHECK_OK(symlink("rootfile", p("link")));
	CHECK_OK(fchownat(AT_FDCWD, p("link"), 1000, 1000, AT_SYMLINK_NOFOLLOW));
	CHECK(lstat(p("link"), &st) == 0 && st.st_uid == 1000);
	CHECK(stat(p("link"), &st) == 0 && st.st_uid == 0);
	CHECK_ERR(fchownat(AT_FDCWD, p("link"), 0, 0, 0x4000000), EINVAL);
	/* A sticky directory holding root's file; a set-group-id directory of group 4242. */
	CHECK_OK(mkdir(p("sticky"), 0777));
	CHECK_OK(chmod(p("sticky"), 01777));
	int s = open(p("sticky/rootfile"), O_CREAT | O_WRONLY, 0666);
	CHECK(s >= 0);
	CHECK_OK(mkdir(p("setgid"), 0777));
	CHECK_OK(chown(p("setgid"), 0, 4242));
	CHECK_OK(chmod(p("setgid"), 02777));
	int t = open(p("theirs"), O_CREAT | O_WRONLY, 0644);
	CHECK(t >= 0 && fchown(t, 1000, 4242) == 0);
	CHECK(as_user(1000, 1000, other_user) == 0);
	CHECK_OK(unlink(p("theirs")));
	/* Root may remove it all. */
	CHECK_OK(unlink(p("sticky/rootfile")));
	CHECK_OK(rmdir(p("sticky")));
	CHECK_OK(rmdir(p("setgid")));
	CHECK_OK(unlink(p("link")));
	CHECK_OK(unlink(p("rootfile")));
	CHECK_OK(rmdir(dir));
	DONE();
}

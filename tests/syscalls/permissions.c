/* Permission checks as an unprivileged user: mode bits for owner, group and others,
 * supplementary groups, directory search and write, sticky directories, chmod and chown by
 * non-owners, access() with the real ids, umask. */
#include "check.h"
#include <grp.h>
#include <sys/wait.h>

static char base[64];
static char *P(const char *rel)
{
	static char bufs[8][160];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 160, "%s/%s", base, rel);
	return b;
}

static int run_as(uid_t uid, gid_t gid, gid_t extra, int (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		gid_t groups[1] = { extra };
		if (setgroups(extra ? 1 : 0, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(100);
		int bad = fn();
		if (bad)
			fprintf(stderr, "uid %d: failed checks %#x\n", uid, bad);
		_exit(bad ? (bad & 0xff ? bad & 0xff : 1) : 0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Each check in the child sets a bit when it fails; the child prints them (an exit status
 * keeps only 8 bits). */
static int as_other(void)
{
	int bad = 0;
	bad |= !(open(P("owner_only"), O_RDONLY) == -1 && errno == EACCES) << 0;
	bad |= (open(P("world_read"), O_RDONLY) < 0) << 1;
	bad |= !(open(P("world_read"), O_WRONLY) == -1 && errno == EACCES) << 2;
	bad |= !(access(P("world_read"), W_OK) == -1 && errno == EACCES) << 3;
	bad |= (access(P("world_read"), R_OK) != 0) << 4;
	/* No search permission on a directory: nothing below it resolves. */
	bad |= !(open(P("nosearch/f"), O_RDONLY) == -1 && errno == EACCES) << 5;
	/* No write permission on a directory: no new names. */
	bad |= !(open(P("nowrite/new"), O_CREAT | O_WRONLY, 0644) == -1 && errno == EACCES) << 6;
	/* Sticky directory: another user's file cannot be removed or renamed away. */
	bad |= !(unlink(P("sticky/theirs")) == -1 && errno == EPERM) << 7;
	bad |= !(rename(P("sticky/theirs"), P("sticky/x")) == -1 && errno == EPERM) << 8;
	/* ...but one's own can. */
	int fd = open(P("sticky/mine"), O_CREAT | O_WRONLY, 0644);
	bad |= (fd < 0) << 9;
	close(fd);
	bad |= (unlink(P("sticky/mine")) != 0) << 10;
	/* chmod/chown of someone else's file. */
	bad |= !(chmod(P("world_read"), 0777) == -1 && errno == EPERM) << 11;
	bad |= !(chown(P("world_read"), 65534, -1) == -1 && errno == EPERM) << 12;
	/* Executing needs x. */
	bad |= !(access(P("world_read"), X_OK) == -1 && errno == EACCES) << 13;
	return bad;
}

static int as_group_member(void)
{
	int bad = 0;
	/* group_rw is 0060 root:4242: the supplementary group grants read and write. */
	int fd = open(P("group_rw"), O_RDWR);
	bad |= (fd < 0) << 0;
	close(fd);
	return bad;
}

static int as_owner(void)
{
	int bad = 0;
	/* Owner bits apply even when they grant less than the group's or others'. */
	bad |= !(open(P("owner_none"), O_RDONLY) == -1 && errno == EACCES) << 0;
	bad |= (chmod(P("owner_none"), 0600) != 0) << 1;
	bad |= (open(P("owner_none"), O_RDONLY) < 0) << 2;
	/* umask applies to new files. */
	umask(027);
	int fd = open(P("mine/new"), O_CREAT | O_WRONLY, 0666);
	struct stat st;
	bad |= (fd < 0 || fstat(fd, &st) != 0 || (st.st_mode & 0777) != 0640) << 3;
	close(fd);
	return bad;
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/palisade-perms-%d", getpid());
	CHECK_OK(mkdir(base, 0755));
	int fd;
	fd = open(P("owner_only"), O_CREAT | O_WRONLY, 0600); close(fd);
	fd = open(P("world_read"), O_CREAT | O_WRONLY, 0644); close(fd);
	fd = open(P("group_rw"), O_CREAT | O_WRONLY, 0600); close(fd);
	CHECK_OK(chown(P("group_rw"), 0, 4242));
	CHECK_OK(chmod(P("group_rw"), 0060));
	CHECK_OK(mkdir(P("nosearch"), 0700));
	fd = open(P("nosearch/f"), O_CREAT | O_WRONLY, 0644); close(fd);
	CHECK_OK(mkdir(P("nowrite"), 0755));
	CHECK_OK(mkdir(P("sticky"), 0755));
	CHECK_OK(chmod(P("sticky"), 01777));
	fd = open(P("sticky/theirs"), O_CREAT | O_WRONLY, 0666); close(fd);
	CHECK_OK(mkdir(P("mine"), 0755));
	CHECK_OK(chown(P("mine"), 4000, 4000));
	fd = open(P("owner_none"), O_CREAT | O_WRONLY, 0077); close(fd);
	CHECK_OK(chown(P("owner_none"), 4000, 4000));

	int r = run_as(65534, 65534, 0, as_other);
	if (r)
		fprintf(stderr, "as_other: %#x\n", r);
	CHECK(r == 0);
	CHECK(run_as(5000, 5000, 4242, as_group_member) == 0);
	CHECK(run_as(5000, 5000, 0, as_group_member) == 1);
	CHECK(run_as(4000, 4000, 0, as_owner) == 0);

	/* Root: CAP_DAC_OVERRIDE reads anything, but executes only what someone may execute. */
	CHECK_OK(access(P("owner_none"), R_OK | W_OK));
	CHECK_ERR(access(P("world_read"), X_OK), EACCES);

	const char *files[] = { "owner_only", "world_read", "group_rw", "nosearch/f",
				"sticky/theirs", "owner_none", "mine/new" };
	for (unsigned i = 0; i < sizeof files / sizeof *files; i++)
		unlink(P(files[i]));
	const char *dirs[] = { "nosearch", "nowrite", "sticky", "mine" };
	for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++)
		rmdir(P(dirs[i]));
	CHECK_OK(rmdir(base));
	return failures != 0;
}

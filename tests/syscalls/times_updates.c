/* Which operations change which timestamps (POSIX, and Linux on tmpfs and ext4 alike): data
 * writes move mtime and ctime, metadata changes ctime only, directory changes the directory's
 * mtime and ctime, a read moves atime when it is older than mtime (relatime), and writes of
 * nothing change nothing. */
#include "check.h"
#include <sys/xattr.h>
#include <time.h>

struct times {
	struct timespec a, m, c;
};

static struct times get(const char *p)
{
	struct stat st;
	struct times t = {{0, 0}, {0, 0}, {0, 0}};
	if (lstat(p, &st) == 0) {
		t.a = st.st_atim;
		t.m = st.st_mtim;
		t.c = st.st_ctim;
	}
	return t;
}

static int same(struct timespec x, struct timespec y)
{
	return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
}

static int later(struct timespec x, struct timespec y)
{
	return x.tv_sec > y.tv_sec || (x.tv_sec == y.tv_sec && x.tv_nsec > y.tv_nsec);
}

/* Let the clock move past the timestamps just taken (coarse clocks tick every few ms). */
static void tick(void)
{
	usleep(20000);
}

/* Expect exactly: 'a', 'm', 'c' in `what` changed (later), the others equal. */
#define EXPECT(before, after, what)                                                            \
	do {                                                                                   \
		CHECK(strchr(what, 'a') ? later(after.a, before.a) : same(after.a, before.a)); \
		CHECK(strchr(what, 'm') ? later(after.m, before.m) : same(after.m, before.m)); \
		CHECK(strchr(what, 'c') ? later(after.c, before.c) : same(after.c, before.c)); \
	} while (0)

int main(void)
{
	scratch_init("times");
	char *f = strdup(S("f"));
	const char *dir = scratch_base();
	CHECK_OK(put_text(f, "hello"));
	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	struct times b, a, db, da;

	/* write: mtime and ctime. */
	b = get(f);
	tick();
	CHECK(pwrite(fd, "J", 1, 0) == 1);
	a = get(f);
	EXPECT(b, a, "mc");

	/* A write of nothing changes nothing. */
	b = get(f);
	tick();
	CHECK(write(fd, "", 0) == 0);
	a = get(f);
	EXPECT(b, a, "");

	/* chmod, chown, setxattr, link count: ctime only. */
	b = get(f);
	tick();
	CHECK_OK(fchmod(fd, 0640));
	a = get(f);
	EXPECT(b, a, "c");
	b = a;
	tick();
	CHECK_OK(fchown(fd, 0, 0));
	a = get(f);
	EXPECT(b, a, "c");
	b = a;
	tick();
	CHECK_OK(fsetxattr(fd, "user.k", "v", 1, 0));
	a = get(f);
	EXPECT(b, a, "c");

	/* link: the file's ctime; the directory's mtime and ctime. */
	b = get(f);
	db = get(dir);
	tick();
	CHECK_OK(link(f, S("g")));
	a = get(f);
	da = get(dir);
	EXPECT(b, a, "c");
	EXPECT(db, da, "mc");
	/* unlink of one name: the same. */
	b = a;
	db = da;
	tick();
	CHECK_OK(unlink(S("g")));
	EXPECT(b, get(f), "c");
	EXPECT(db, get(dir), "mc");
	/* rename within the directory: the directory's, and the file's ctime. */
	b = get(f);
	db = get(dir);
	tick();
	CHECK_OK(rename(f, S("h")));
	EXPECT(b, get(S("h")), "c");
	EXPECT(db, get(dir), "mc");
	CHECK_OK(rename(S("h"), f));

	/* truncate to another size: mtime and ctime; O_TRUNC of a non-empty file too. */
	b = get(f);
	tick();
	CHECK_OK(ftruncate(fd, 2));
	a = get(f);
	EXPECT(b, a, "mc");
	b = a;
	tick();
	int t = open(f, O_WRONLY | O_TRUNC);
	CHECK(t >= 0);
	close(t);
	a = get(f);
	EXPECT(b, a, "mc");

	/* mkdir, symlink, mknod in a directory: its mtime and ctime; the new entry's times are
	 * equal to each other. */
	db = get(dir);
	tick();
	CHECK_OK(mkdir(S("sub"), 0755));
	da = get(dir);
	EXPECT(db, da, "mc");
	struct times s = get(S("sub"));
	CHECK(same(s.a, s.m) && same(s.m, s.c) && !later(s.c, da.c));
	db = da;
	tick();
	CHECK_OK(symlink("f", S("sym")));
	EXPECT(db, get(dir), "mc");
	/* A change inside sub is not a change of the scratch directory. */
	db = get(dir);
	tick();
	CHECK_OK(put_text(S("sub/x"), "x"));
	EXPECT(db, get(dir), "");

	/* read: atime, once it is older than mtime (relatime); not again right after. */
	CHECK(pwrite(fd, "data", 4, 0) == 4);
	struct timespec old[2] = {{1000000, 0}, {0, UTIME_OMIT}};
	CHECK_OK(futimens(fd, old));
	b = get(f);
	tick();
	char buf[8];
	CHECK(pread(fd, buf, 4, 0) == 4);
	a = get(f);
	EXPECT(b, a, "a");
	b = a;
	tick();
	CHECK(pread(fd, buf, 4, 0) == 4);
	EXPECT(b, get(f), "");

	/* utimensat: both given, ctime moves too; all omitted, nothing moves. */
	b = get(f);
	tick();
	struct timespec set[2] = {{2000000, 5}, {3000000, 7}};
	CHECK_OK(utimensat(AT_FDCWD, f, set, 0));
	a = get(f);
	CHECK(a.a.tv_sec == 2000000 && a.a.tv_nsec == 5 && a.m.tv_sec == 3000000 && a.m.tv_nsec == 7);
	CHECK(later(a.c, b.c));
	b = a;
	tick();
	struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	CHECK_OK(utimensat(AT_FDCWD, f, omit, 0));
	EXPECT(b, get(f), "");

	close(fd);
	scratch_cleanup();
	DONE();
}

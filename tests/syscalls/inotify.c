/* inotify: create, modify, attrib, open/close, moves with cookies, delete and delete-self,
 * IN_ONESHOT, rm_watch, coalescing, FIONREAD, the errors. */
#include "check.h"
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

static char buf[8192] __attribute__((aligned(8)));
static int nev;
static struct inotify_event *evs[128];

/* Read what is queued (waiting up to 100 ms for the first event). */
static int collect(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	nev = 0;
	if (poll(&p, 1, 100) <= 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf);
	for (ssize_t off = 0; off < n && nev < 128;) {
		struct inotify_event *e = (struct inotify_event *)(buf + off);
		evs[nev++] = e;
		off += sizeof *e + e->len;
	}
	return nev;
}

static int find(uint32_t mask, const char *name)
{
	for (int i = 0; i < nev; i++)
		if ((evs[i]->mask & mask) == mask &&
		    (name ? evs[i]->len && strcmp(evs[i]->name, name) == 0 : evs[i]->len == 0))
			return i;
	return -1;
}

int main(void)
{
	char dir[64], f[96], g[96], sub[96];
	snprintf(dir, sizeof dir, "/tmp/palisade-inotify-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(g, sizeof g, "%s/g", dir);
	snprintf(sub, sizeof sub, "%s/sub", dir);

	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK(in >= 0);
	char small[8];
	CHECK_ERR(read(in, small, sizeof small), EAGAIN);
	int wd = inotify_add_watch(in, dir, IN_ALL_EVENTS);
	CHECK(wd > 0);
	CHECK(inotify_add_watch(in, dir, IN_CREATE) == wd); /* same inode, same descriptor */
	CHECK(inotify_add_watch(in, dir, IN_ALL_EVENTS) == wd);

	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	CHECK(write(fd, "x", 1) == 1);
	close(fd);
	CHECK(collect(in) >= 3);
	CHECK(find(IN_CREATE, "f") >= 0 && find(IN_MODIFY, "f") >= 0 && find(IN_CLOSE_WRITE, "f") >= 0);
	CHECK(find(IN_OPEN, "f") >= 0);
	CHECK(evs[0]->wd == wd);

	/* Two writes in a row make one IN_MODIFY; FIONREAD counts the bytes queued. */
	fd = open(f, O_WRONLY);
	CHECK(write(fd, "a", 1) == 1 && write(fd, "b", 1) == 1);
	int avail = 0;
	CHECK_OK(ioctl(in, FIONREAD, &avail));
	CHECK(avail > 0);
	close(fd);
	collect(in);
	int modifies = 0;
	for (int i = 0; i < nev; i++)
		modifies += (evs[i]->mask & IN_MODIFY) != 0;
	CHECK(modifies == 1);

	/* A watch on the file itself sees IN_ATTRIB. */
	int wf = inotify_add_watch(in, f, IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
	CHECK(wf > 0 && wf != wd);
	CHECK_OK(chmod(f, 0600));
	collect(in);
	CHECK(find(IN_ATTRIB, NULL) >= 0 && find(IN_ATTRIB, "f") >= 0);

	/* A rename: MOVED_FROM and MOVED_TO with one cookie, MOVE_SELF. */
	CHECK_OK(rename(f, g));
	collect(in);
	int from = find(IN_MOVED_FROM, "f"), to = find(IN_MOVED_TO, "g");
	CHECK(from >= 0 && to >= 0 && evs[from]->cookie != 0 && evs[from]->cookie == evs[to]->cookie);
	CHECK(find(IN_MOVE_SELF, NULL) >= 0);

	/* Deleting: IN_DELETE in the directory, DELETE_SELF then IGNORED on the file's watch. */
	CHECK_OK(unlink(g));
	collect(in);
	CHECK(find(IN_DELETE, "g") >= 0);
	int ds = find(IN_DELETE_SELF, NULL), ig = find(IN_IGNORED, NULL);
	CHECK(ds >= 0 && ig > ds && evs[ig]->wd == wf);

	/* Directories: IN_ISDIR. */
	CHECK_OK(mkdir(sub, 0755));
	collect(in);
	CHECK(find(IN_CREATE | IN_ISDIR, "sub") >= 0);
	CHECK_OK(rmdir(sub));
	collect(in);
	CHECK(find(IN_DELETE | IN_ISDIR, "sub") >= 0);

	/* IN_ONESHOT: one event, then IN_IGNORED. */
	CHECK_OK(inotify_rm_watch(in, wd));
	collect(in);
	CHECK(find(IN_IGNORED, NULL) >= 0);
	int w1 = inotify_add_watch(in, dir, IN_CREATE | IN_ONESHOT);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	close(open(g, O_CREAT | O_WRONLY, 0644));
	collect(in);
	CHECK(find(IN_CREATE, "f") >= 0 && find(IN_CREATE, "g") < 0 && find(IN_IGNORED, NULL) >= 0);
	CHECK_ERR(inotify_rm_watch(in, w1), EINVAL);

	/* A buffer too small for the next event is EINVAL. */
	int w2 = inotify_add_watch(in, dir, IN_DELETE);
	CHECK(w2 > 0);
	CHECK_OK(unlink(f));
	struct pollfd p = { .fd = in, .events = POLLIN };
	CHECK(poll(&p, 1, 100) == 1);
	CHECK_ERR(read(in, small, sizeof small), EINVAL);
	collect(in);

	/* Errors. */
	CHECK_ERR(inotify_add_watch(in, dir, 0), EINVAL);
	CHECK_ERR(inotify_add_watch(in, "/tmp/palisade-no-such", IN_CREATE), ENOENT);
	CHECK_ERR(inotify_add_watch(0 == in ? 1 : 0, dir, IN_CREATE), EINVAL);
	CHECK_ERR(inotify_add_watch(in, g, IN_CREATE | IN_ONLYDIR), ENOTDIR);
	CHECK_ERR(inotify_rm_watch(in, 12345), EINVAL);
	CHECK_ERR(inotify_init1(0x1), EINVAL);

	close(in);
	unlink(g);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

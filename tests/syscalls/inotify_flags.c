/* inotify's watch flags and edge cases: IN_ONLYDIR (ENOTDIR on a file), IN_DONT_FOLLOW
 * (watch the link itself), IN_MASK_ADD (or the mask in) versus replacing it, IN_MASK_CREATE
 * (EEXIST on an existing watch), IN_ONESHOT (one event, then IN_IGNORED), IN_EXCL_UNLINK
 * (no events from an unlinked child), IN_CLOSE_NOWRITE versus IN_CLOSE_WRITE, IN_DELETE_SELF
 * when the last link goes, IN_ATTRIB for a link count change, moves out of a watched
 * directory as a lone IN_MOVED_FROM, and a rename over a watched file. */
#include "check.h"
#include <poll.h>
#include <sys/inotify.h>

static char evbuf[16384];
static int nev;
static struct inotify_event *evs[256];

/* Read what is queued (waiting up to 100 ms for the first event). */
static int collect(int in)
{
	nev = 0;
	struct pollfd p = {in, POLLIN, 0};
	if (poll(&p, 1, 100) != 1)
		return 0;
	ssize_t n = read(in, evbuf, sizeof evbuf);
	for (char *q = evbuf; n > 0 && q < evbuf + n && nev < 256;) {
		struct inotify_event *e = (struct inotify_event *)q;
		evs[nev++] = e;
		q += sizeof *e + e->len;
	}
	return nev;
}

/* Index of the first event with all bits of mask (and name, if given), or -1. */
static int find(int wd, uint32_t mask, const char *name)
{
	for (int i = 0; i < nev; i++)
		if (evs[i]->wd == wd && (evs[i]->mask & mask) == mask &&
		    (!name || (evs[i]->len && strcmp(evs[i]->name, name) == 0)))
			return i;
	return -1;
}

int main(void)
{
	scratch_init("inoflags");
	const char *dir = scratch_base();
	char *f = strdup(S("f")), *l = strdup(S("l")), *other = strdup(S("other"));
	CHECK_OK(put_text(f, "x"));
	CHECK_OK(symlink("f", l));
	CHECK_OK(mkdir(other, 0755));
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK(in >= 0);

	CHECK_ERR(inotify_add_watch(in, f, IN_ATTRIB | IN_ONLYDIR), ENOTDIR);
	CHECK(inotify_add_watch(in, dir, IN_ATTRIB | IN_ONLYDIR) > 0);

	/* IN_DONT_FOLLOW: the link's own inode (a chmod of the target is not its event). */
	int wl = inotify_add_watch(in, l, IN_ATTRIB | IN_DONT_FOLLOW);
	int wf = inotify_add_watch(in, l, IN_ATTRIB); /* follows: the file */
	CHECK(wl > 0 && wf > 0 && wl != wf);
	CHECK_OK(chmod(f, 0600));
	collect(in);
	CHECK(find(wf, IN_ATTRIB, NULL) >= 0 && find(wl, IN_ATTRIB, NULL) < 0);
	CHECK_OK(inotify_rm_watch(in, wl));
	collect(in);

	/* Replacing the mask versus adding to it; IN_MASK_CREATE refuses an existing watch. */
	CHECK(inotify_add_watch(in, f, IN_OPEN) == wf); /* now only IN_OPEN */
	CHECK_OK(chmod(f, 0644));
	int fd = open(f, O_RDONLY);
	close(fd);
	collect(in);
	CHECK(find(wf, IN_OPEN, NULL) >= 0 && find(wf, IN_ATTRIB, NULL) < 0);
	CHECK(inotify_add_watch(in, f, IN_ATTRIB | IN_MASK_ADD) == wf); /* IN_OPEN | IN_ATTRIB */
	CHECK_OK(chmod(f, 0600));
	fd = open(f, O_RDONLY);
	collect(in);
	CHECK(find(wf, IN_OPEN, NULL) >= 0 && find(wf, IN_ATTRIB, NULL) >= 0);
	CHECK_ERR(inotify_add_watch(in, f, IN_ATTRIB | IN_MASK_CREATE), EEXIST);
	CHECK_ERR(inotify_add_watch(in, f, IN_ATTRIB | IN_MASK_CREATE | IN_MASK_ADD), EINVAL);

	/* Close kinds. */
	CHECK(inotify_add_watch(in, f, IN_CLOSE) == wf);
	close(fd);
	collect(in);
	CHECK(find(wf, IN_CLOSE_NOWRITE, NULL) >= 0 && find(wf, IN_CLOSE_WRITE, NULL) < 0);
	fd = open(f, O_WRONLY);
	close(fd);
	collect(in);
	CHECK(find(wf, IN_CLOSE_WRITE, NULL) >= 0 && find(wf, IN_CLOSE_NOWRITE, NULL) < 0);

	/* IN_ONESHOT: the first event, then the watch is gone (IN_IGNORED). */
	CHECK(inotify_add_watch(in, f, IN_ATTRIB | IN_ONESHOT) == wf);
	CHECK_OK(chmod(f, 0644));
	CHECK_OK(chmod(f, 0600));
	collect(in);
	int attribs = 0;
	for (int i = 0; i < nev; i++)
		attribs += evs[i]->wd == wf && (evs[i]->mask & IN_ATTRIB);
	CHECK(attribs == 1 && find(wf, IN_IGNORED, NULL) >= 0);
	CHECK_ERR(inotify_rm_watch(in, wf), EINVAL);

	/* Link count: IN_ATTRIB; the last unlink: IN_ATTRIB, IN_DELETE_SELF, IN_IGNORED. */
	wf = inotify_add_watch(in, f, IN_ATTRIB | IN_DELETE_SELF);
	CHECK(wf > 0);
	CHECK_OK(link(f, S("f2")));
	collect(in);
	CHECK(find(wf, IN_ATTRIB, NULL) >= 0);
	CHECK_OK(unlink(S("f2")));
	collect(in);
	CHECK(find(wf, IN_ATTRIB, NULL) >= 0 && find(wf, IN_DELETE_SELF, NULL) < 0);
	CHECK_OK(unlink(f));
	collect(in);
	int ds = find(wf, IN_DELETE_SELF, NULL), ig = find(wf, IN_IGNORED, NULL);
	CHECK(ds >= 0 && ig > ds);

	/* IN_EXCL_UNLINK: an open, unlinked child of a watched directory reports nothing. */
	char *g = strdup(S("g"));
	CHECK_OK(put_text(g, "g"));
	int wd = inotify_add_watch(in, dir, IN_MODIFY | IN_EXCL_UNLINK | IN_MOVED_FROM | IN_MOVED_TO);
	CHECK(wd > 0);
	fd = open(g, O_WRONLY);
	CHECK(write(fd, "1", 1) == 1);
	collect(in);
	CHECK(find(wd, IN_MODIFY, "g") >= 0);
	CHECK_OK(unlink(g));
	CHECK(write(fd, "2", 1) == 1);
	collect(in);
	CHECK(find(wd, IN_MODIFY, NULL) < 0);
	close(fd);

	/* A move out of the watched directory: a lone IN_MOVED_FROM; into it, IN_MOVED_TO. */
	CHECK_OK(put_text(S("h"), "h"));
	collect(in);
	CHECK_OK(rename(S("h"), S("other/h")));
	collect(in);
	int from = find(wd, IN_MOVED_FROM, "h");
	CHECK(from >= 0 && evs[from]->cookie != 0 && find(wd, IN_MOVED_TO, NULL) < 0);
	CHECK_OK(rename(S("other/h"), S("back")));
	collect(in);
	CHECK(find(wd, IN_MOVED_TO, "back") >= 0 && find(wd, IN_MOVED_FROM, NULL) < 0);

	/* A rename over a watched file: it loses its last link (IN_DELETE_SELF). */
	CHECK_OK(put_text(S("victim"), "v"));
	int wv = inotify_add_watch(in, S("victim"), IN_DELETE_SELF);
	CHECK(wv > 0);
	CHECK_OK(rename(S("back"), S("victim")));
	collect(in);
	CHECK(find(wv, IN_DELETE_SELF, NULL) >= 0 && find(wv, IN_IGNORED, NULL) >= 0);

	close(in);
	scratch_cleanup();
	DONE();
}

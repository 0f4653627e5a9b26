/* inotify across moves: a watched directory keeps its watch (same wd) when renamed or
 * moved, and reports IN_MOVE_SELF; events inside it keep coming under the same wd; a
 * watched file renamed reports IN_MOVE_SELF, and writing to it still reports IN_MODIFY;
 * MOVED_FROM/MOVED_TO pairs share a cookie, distinct per move; rmdir of a watched
 * directory gives IN_DELETE_SELF then IN_IGNORED. */
#include "check.h"
#include <poll.h>
#include <sys/inotify.h>

static struct inotify_event *evs[64];
static char evbuf[8192] __attribute__((aligned(8)));

static int drain(int in)
{
	int n = 0;
	struct pollfd p = {in, POLLIN, 0};
	while (poll(&p, 1, 100) == 1) {
		ssize_t r = read(in, evbuf, sizeof evbuf);
		if (r <= 0)
			break;
		for (char *c = evbuf; c < evbuf + r && n < 64;) {
			struct inotify_event *e = (struct inotify_event *)c;
			evs[n] = malloc(sizeof *e + e->len);
			memcpy(evs[n++], e, sizeof *e + e->len);
			c += sizeof *e + e->len;
		}
	}
	return n;
}

/* The index of the first event with this wd and mask bit (and name, if given), or -1. */
static int find(int n, int wd, uint32_t mask, const char *name)
{
	for (int i = 0; i < n; i++)
		if (evs[i]->wd == wd && (evs[i]->mask & mask) &&
		    (!name || (evs[i]->len && strcmp(evs[i]->name, name) == 0)))
			return i;
	return -1;
}

int main(void)
{
	scratch_init("inomove");
	CHECK_OK(mkdir(S("a"), 0755));
	CHECK_OK(mkdir(S("other"), 0755));
	CHECK_OK(put_text(S("a/f"), "x"));
	int in = inotify_init1(IN_NONBLOCK);
	int top = inotify_add_watch(in, scratch_base(), IN_ALL_EVENTS);
	int wa = inotify_add_watch(in, S("a"), IN_ALL_EVENTS);
	int wf = inotify_add_watch(in, S("a/f"), IN_ALL_EVENTS);
	CHECK(top >= 0 && wa >= 0 && wf >= 0);

	/* Rename the watched directory: MOVE_SELF on it, a cookie pair in the parent. */
	CHECK_OK(rename(S("a"), S("b")));
	int n = drain(in);
	int from = find(n, top, IN_MOVED_FROM, "a"), to = find(n, top, IN_MOVED_TO, "b");
	CHECK(from >= 0 && to >= 0 && from < to);
	if (from >= 0 && to >= 0) {
		CHECK(evs[from]->cookie != 0 && evs[from]->cookie == evs[to]->cookie);
		CHECK(evs[from]->mask & IN_ISDIR);
	}
	CHECK(find(n, wa, IN_MOVE_SELF, NULL) >= 0);
	uint32_t first_cookie = from >= 0 ? evs[from]->cookie : 0;

	/* Events inside it still come under the old wd. */
	CHECK_OK(put_text(S("b/new"), "n"));
	n = drain(in);
	CHECK(find(n, wa, IN_CREATE, "new") >= 0);
	CHECK(find(n, top, IN_CREATE, NULL) < 0); /* not the parent's business */

	/* Rename the watched file within it: MOVE_SELF on the file's wd, its data events too. */
	CHECK_OK(rename(S("b/f"), S("b/g")));
	int fd = open(S("b/g"), O_WRONLY);
	CHECK(write(fd, "y", 1) == 1);
	close(fd);
	n = drain(in);
	from = find(n, wa, IN_MOVED_FROM, "f");
	to = find(n, wa, IN_MOVED_TO, "g");
	CHECK(from >= 0 && to >= 0);
	if (from >= 0 && to >= 0) {
		CHECK(evs[from]->cookie == evs[to]->cookie);
		CHECK(evs[from]->cookie != first_cookie);
	}
	CHECK(find(n, wf, IN_MOVE_SELF, NULL) >= 0);
	CHECK(find(n, wf, IN_MODIFY, NULL) >= 0);
	CHECK(find(n, wa, IN_MODIFY, "g") >= 0);

	/* Move the directory to another parent: MOVED_FROM here, MOVED_TO there. */
	int wo = inotify_add_watch(in, S("other"), IN_ALL_EVENTS);
	CHECK_OK(rename(S("b"), S("other/b")));
	n = drain(in);
	from = find(n, top, IN_MOVED_FROM, "b");
	to = find(n, wo, IN_MOVED_TO, "b");
	CHECK(from >= 0 && to >= 0);
	if (from >= 0 && to >= 0)
		CHECK(evs[from]->cookie == evs[to]->cookie);
	CHECK(find(n, wa, IN_MOVE_SELF, NULL) >= 0);

	/* Removing it: DELETE_SELF, then IGNORED, for the directory's wd. */
	CHECK_OK(unlink(S("other/b/g")));
	CHECK_OK(unlink(S("other/b/new")));
	CHECK_OK(rmdir(S("other/b")));
	n = drain(in);
	int ds = find(n, wa, IN_DELETE_SELF, NULL), ig = find(n, wa, IN_IGNORED, NULL);
	CHECK(ds >= 0 && ig > ds);
	CHECK(find(n, wo, IN_DELETE, "b") >= 0);
	/* The file's watch went when its last link did. */
	CHECK(find(n, wf, IN_DELETE_SELF, NULL) >= 0);
	CHECK(find(n, wf, IN_IGNORED, NULL) >= 0);
	scratch_cleanup();
	DONE();
}

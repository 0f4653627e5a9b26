/* What /proc/self/fd links say for files without a path: "pipe:[ino]" and "socket:[ino]"
 * with the inode fstat gives, "anon_inode:[eventfd]" and its kin, memfd's "/memfd:NAME
 * (deleted)", a deleted file's " (deleted)"; /dev/fd is /proc/self/fd. */
#include "check.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <signal.h>

static int link_is(int fd, const char *want)
{
	char p[64], got[512];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, got, sizeof got - 1);
	if (n < 0)
		return 0;
	got[n] = 0;
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "fd %d: \"%s\", want \"%s\"\n", fd, got, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	char want[512];
	struct stat st;
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_OK(fstat(p[0], &st));
	snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
	CHECK(link_is(p[0], want) && link_is(p[1], want));

	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(fstat(sv[0], &st));
	snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
	CHECK(link_is(sv[0], want));

	CHECK(link_is(eventfd(0, 0), "anon_inode:[eventfd]"));
	CHECK(link_is(epoll_create1(0), "anon_inode:[eventpoll]"));
	CHECK(link_is(timerfd_create(CLOCK_MONOTONIC, 0), "anon_inode:[timerfd]"));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(link_is(signalfd(-1, &set, 0), "anon_inode:[signalfd]"));
	CHECK(link_is(inotify_init1(0), "anon_inode:inotify"));
	CHECK(link_is(memfd_create("thing", 0), "/memfd:thing (deleted)"));

	scratch_init("fdlinks");
	int fd = open(S("gone"), O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	snprintf(want, sizeof want, "%s", S("gone"));
	CHECK(link_is(fd, want));
	CHECK_OK(unlink(S("gone")));
	snprintf(want, sizeof want, "%s (deleted)", S("gone"));
	CHECK(link_is(fd, want));

	/* /dev/fd and /dev/stdin. */
	char got[64];
	ssize_t n = readlink("/dev/fd", got, sizeof got - 1);
	CHECK(n == 13 && memcmp(got, "/proc/self/fd", 13) == 0);
	n = readlink("/dev/stdin", got, sizeof got - 1);
	CHECK(n == 15 && memcmp(got, "/proc/self/fd/0", 15) == 0);
	/* Opening /proc/self/fd/N of a pipe opens the pipe. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	int w = open(path, O_WRONLY);
	CHECK(w >= 0 && write(w, "x", 1) == 1);
	char c;
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');

	scratch_cleanup();
	DONE();
}

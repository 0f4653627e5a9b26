/* /proc/self/fdinfo/N as lsof, systemd and language runtimes read it: pos follows the
 * offset, flags are octal open flags with O_CLOEXEC shown as 02000000 and O_APPEND or
 * O_NONBLOCK after F_SETFL, mnt_id matches the file's mountinfo entry, ino matches fstat;
 * eventfd shows its count, timerfd its clock, inotify its watches, epoll its targets. */
#include "check.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>

static char info[4096];

static int load(int fd)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
	return read_text(p, info, sizeof info);
}

/* The number after "key:" (whitespace allowed), in base `base`, or -1. */
static long long num(const char *key, int base)
{
	char k[64];
	snprintf(k, sizeof k, "%s:", key);
	char *p = strstr(info, k);
	return p ? strtoll(p + strlen(k), NULL, base) : -1;
}

int main(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(lseek(fd, 123, SEEK_SET) == 123);
	CHECK(load(fd) > 0);
	CHECK(num("pos", 10) == 123);
	long long fl = num("flags", 8);
	CHECK(fl >= 0 && (fl & 02000000) && (fl & O_ACCMODE) == O_RDONLY);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(num("ino", 10) == (long long)st.st_ino);
	/* mnt_id is a mount listed in mountinfo. */
	long long mnt = num("mnt_id", 10);
	char mi[65536];
	CHECK(mnt > 0 && read_text("/proc/self/mountinfo", mi, sizeof mi) > 0);
	int found = 0;
	for (char *line = strtok(mi, "\n"); line; line = strtok(NULL, "\n"))
		found |= atoll(line) == mnt;
	CHECK(found);
	close(fd);

	/* F_SETFL changes show; the access mode is there. */
	fd = open("/dev/null", O_WRONLY);
	CHECK_OK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
	CHECK(load(fd) > 0);
	fl = num("flags", 8);
	CHECK((fl & O_APPEND) && (fl & O_NONBLOCK) && (fl & O_ACCMODE) == O_WRONLY && !(fl & 02000000));
	close(fd);

	int ev = eventfd(5, EFD_NONBLOCK);
	CHECK(load(ev) > 0 && num("eventfd-count", 16) == 5);
	uint64_t one = 1;
	CHECK(write(ev, &one, 8) == 8);
	CHECK(load(ev) > 0 && num("eventfd-count", 16) == 6);

	int tf = timerfd_create(CLOCK_MONOTONIC, 0);
	CHECK(load(tf) > 0 && num("clockid", 10) == CLOCK_MONOTONIC);
	struct itimerspec its = {{0, 0}, {100, 0}};
	CHECK_OK(timerfd_settime(tf, 0, &its, NULL));
	CHECK(load(tf) > 0 && strstr(info, "it_value:") != NULL);

	int in = inotify_init1(0);
	int wd = inotify_add_watch(in, "/tmp", IN_CREATE | IN_DELETE);
	CHECK(wd > 0);
	CHECK(load(in) > 0);
	char *w = strstr(info, "inotify wd:");
	CHECK(w && atoi(w + 11) == wd);
	CHECK(w && strstr(w, "mask:") && strtol(strstr(w, "mask:") + 5, NULL, 16) == (IN_CREATE | IN_DELETE));

	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.u64 = 0x1234};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e));
	CHECK(load(ep) > 0);
	char *t = strstr(info, "tfd:");
	CHECK(t && atoi(t + 4) == ev);
	CHECK(t && strstr(t, "events:") && (strtoul(strstr(t, "events:") + 7, NULL, 16) & (EPOLLIN | EPOLLET)) == (EPOLLIN | EPOLLET));
	CHECK(t && strstr(t, "data:") && strtoull(strstr(t, "data:") + 5, NULL, 16) == 0x1234);
	DONE();
}

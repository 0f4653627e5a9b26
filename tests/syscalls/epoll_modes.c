/* epoll: level vs edge triggering, EPOLLONESHOT re-arming, EPOLLEXCLUSIVE, epoll_pwait's
 * signal mask, epoll_pwait2's timespec timeout, nested epoll sets, and closed descriptors
 * leaving the set; plus epoll_ctl's errors. */
#include "check.h"
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

static volatile int got;
static void on_usr1(int s)
{
	(void)s;
	got = 1;
}

int main(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, out[4];

	/* Errors. */
	CHECK_ERR(epoll_create1(12345), EINVAL);
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev), ENOENT);
	CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
	int devnull = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, devnull, &ev), EPERM); /* regular files */
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
	CHECK_ERR(epoll_wait(p[0], out, 1, 0), EINVAL);

	/* Level-triggered: reported while readable. */
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	CHECK(write(p[1], "ab", 2) == 2);
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 7 && out[0].events == EPOLLIN);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);

	/* Edge-triggered: once per new arrival. */
	ev.events = EPOLLIN | EPOLLET;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	CHECK(write(p[1], "c", 1) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	char buf[8];
	CHECK(read(p[0], buf, sizeof buf) == 3);

	/* One-shot: disabled after one report until re-armed with MOD. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(write(p[1], "d", 1) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	CHECK(write(p[1], "e", 1) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(read(p[0], buf, sizeof buf) == 2);

	/* EPOLLEXCLUSIVE: allowed on ADD only, not with ONESHOT, not on MOD. */
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	CHECK(write(p[1], "f", 1) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(read(p[0], buf, sizeof buf) == 1);

	/* Writable end and hang-up: EPOLLOUT; EPOLLHUP once the writer is gone. */
	int q[2];
	CHECK_OK(pipe(q));
	struct epoll_event wev = {.events = EPOLLOUT, .data.u64 = 9};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &wev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 9 && out[0].events == EPOLLOUT);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, q[1], NULL));
	wev.events = EPOLLIN;
	wev.data.u64 = 10;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &wev));
	close(q[1]);
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 10 && out[0].events == EPOLLHUP);
	/* Closing the last descriptor of a file removes it from the set. */
	close(q[0]);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);

	/* Nested: an epoll fd is readable while its set has events. */
	int outer = epoll_create1(0);
	struct epoll_event nev = {.events = EPOLLIN, .data.u64 = 11};
	CHECK_OK(epoll_ctl(outer, EPOLL_CTL_ADD, ep, &nev));
	CHECK(epoll_wait(outer, out, 4, 0) == 0);
	CHECK(write(p[1], "g", 1) == 1);
	CHECK(epoll_wait(outer, out, 4, 0) == 1 && out[0].data.u64 == 11);
	/* A loop is refused. */
	nev.data.u64 = 12;
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, outer, &nev), ELOOP);
	CHECK(read(p[0], buf, sizeof buf) == 1);

	/* epoll_pwait2: timeout as a timespec; epoll_pwait: a mask that lets a signal in. */
	struct timespec ts = {0, 30 * 1000 * 1000}, a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 25 && ms < 2000);
	ts.tv_nsec = 2000000000;
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8), EINVAL);

	signal(SIGUSR1, on_usr1);
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	CHECK(!got);
	CHECK_ERR(epoll_pwait(ep, out, 4, 5000, &none), EINTR);
	CHECK(got);
	/* The old mask is back. */
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1));
	DONE();
}

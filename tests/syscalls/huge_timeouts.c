#include "check.h"
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>

/* Timeouts from far in the future must neither crash nor fire; each call here is interrupted
 * by a short alarm or returns at once. */
static void h(int s) { (void)s; }

int main(void)
{
	signal(SIGALRM, h);
	struct timespec huge = { 0x7fffffffffffffffLL, 999999999 };
	int fds[2];
	pipe(fds);
	struct pollfd p = { fds[0], POLLIN, 0 };
	ualarm(20000, 0);
	CHECK_ERR(ppoll(&p, 1, &huge, NULL), EINTR);
	ualarm(20000, 0);
	CHECK_ERR(nanosleep(&huge, NULL), EINTR);
	ualarm(20000, 0);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &huge, NULL) == EINTR);
	int word = 0;
	ualarm(20000, 0);
	CHECK_ERR(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &huge, NULL, 0), EINTR);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	ualarm(20000, 0);
	CHECK_ERR(sigtimedwait(&s, NULL, &huge), EINTR);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fds[0], &r);
	struct timeval tv = { 0x7fffffffffffffffLL, 999999 };
	ualarm(20000, 0);
	CHECK_ERR(select(fds[0] + 1, &r, NULL, NULL, &tv), EINTR);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
	ualarm(20000, 0);
	CHECK_ERR(epoll_pwait2(ep, &ev, 1, &huge, NULL), EINTR);
	/* Timers armed for centuries are armed, and disarm cleanly. */
	struct itimerval it = { { 0, 0 }, { 0x7fffffffffffffffLL, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	struct itimerval z = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &z, NULL));
	int tf = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec far = { { 0, 0 }, { 0x7fffffffffffffffLL, 0 } };
	CHECK_OK(timerfd_settime(tf, 0, &far, NULL));
	DONE();
}

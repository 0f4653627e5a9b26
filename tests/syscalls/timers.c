#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

static volatile int fired, value_seen;
static void h(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	fired++;
	value_seen = si->si_value.sival_int;
}

int main(void)
{
	/* timerfd: periodic, counted expiries, readable through poll and epoll. */
	int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	CHECK(tf >= 0 && fcntl(tf, F_GETFD) == FD_CLOEXEC);
	struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } }, cur;
	CHECK_OK(timerfd_settime(tf, 0, &its, NULL));
	struct pollfd p = { tf, POLLIN, 0 };
	CHECK(poll(&p, 1, 1000) == 1);
	usleep(35000);
	uint64_t n = 0;
	CHECK(read(tf, &n, 8) == 8 && n >= 3);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, tf, &ev);
	CHECK(epoll_wait(ep, &ev, 1, 1000) == 1);
	CHECK_OK(timerfd_gettime(tf, &cur));
	CHECK(cur.it_interval.tv_nsec == 10000000);
	struct itimerspec off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(timerfd_settime(tf, 0, &off, &cur));
	CHECK_OK(timerfd_gettime(tf, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
	int nb = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	CHECK_ERR(read(nb, &n, 8), EAGAIN);
	/* Absolute deadline. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec abs = { { 0, 0 }, { now.tv_sec, now.tv_nsec } };
	abs.it_value.tv_nsec += 20000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	CHECK_OK(timerfd_settime(nb, TFD_TIMER_ABSTIME, &abs, NULL));
	p.fd = nb;
	CHECK(poll(&p, 1, 1000) == 1);
	CHECK_ERR(timerfd_create(12345, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x123), EINVAL);
	CHECK_ERR(read(tf, &n, 4), EINVAL);
	/* POSIX timer with a signal and a value. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	struct sigevent se;
	memset(&se, 0, sizeof se);
	se.sigev_notify = SIGEV_SIGNAL;
	se.sigev_signo = SIGRTMIN;
	se.sigev_value.sival_int = 4242;
	timer_t id;
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &se, &id));
	struct itimerspec one = { { 0, 0 }, { 0, 10000000 } };
	CHECK_OK(timer_settime(id, 0, &one, NULL));
	while (!fired)
		pause();
	CHECK(fired == 1 && value_seen == 4242);
	CHECK(timer_getoverrun(id) == 0);
	CHECK_OK(timer_delete(id));
	CHECK_ERR(timer_delete(id), EINVAL);
	/* SIGEV_NONE: nothing fires, but the time left is kept. */
	se.sigev_notify = SIGEV_NONE;
	timer_t quiet;
	CHECK_OK(timer_create(CLOCK_REALTIME, &se, &quiet));
	struct itimerspec later = { { 0, 0 }, { 5, 0 } };
	CHECK_OK(timer_settime(quiet, 0, &later, NULL));
	CHECK_OK(timer_gettime(quiet, &cur));
	CHECK(cur.it_value.tv_sec >= 4 && cur.it_value.tv_sec <= 5);
	se.sigev_notify = 99;
	CHECK_ERR(timer_create(CLOCK_MONOTONIC, &se, &id), EINVAL);
	DONE();
}

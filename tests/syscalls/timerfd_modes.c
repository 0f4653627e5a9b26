/* timerfd: absolute and relative deadlines, intervals and the expiry count read returns,
 * timerfd_gettime's time left, non-blocking reads, TFD_TIMER_CANCEL_ON_SET's rules, and the
 * errors. */
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>

int main(void)
{
	CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 12345), EINVAL);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK(fd >= 0);
	uint64_t n;
	CHECK_ERR(read(fd, &n, 8), EAGAIN);
	CHECK_ERR(read(fd, &n, 4), EINVAL);

	/* Relative, with an interval: several expiries add up. */
	struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
	CHECK_OK(timerfd_settime(fd, 0, &its, NULL));
	usleep(55000);
	CHECK(read(fd, &n, 8) == 8);
	CHECK(n >= 4 && n <= 6);
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(cur.it_interval.tv_nsec == 10000000 && cur.it_value.tv_sec == 0);
	CHECK(cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 10000000);

	/* Re-arming returns the old setting; disarming stops it. */
	struct itimerspec old, zero = {{0, 0}, {0, 0}};
	CHECK_OK(timerfd_settime(fd, 0, &zero, &old));
	CHECK(old.it_interval.tv_nsec == 10000000);
	CHECK_OK(timerfd_gettime(fd, &cur));
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Absolute: a deadline already past fires at once; one in the future when it comes. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct itimerspec abs = {{0, 0}, {now.tv_sec - 1, 0}};
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
	struct pollfd pfd = {fd, POLLIN, 0};
	CHECK(poll(&pfd, 1, 1000) == 1);
	CHECK(read(fd, &n, 8) == 8 && n == 1);
	abs.it_value = now;
	abs.it_value.tv_nsec += 30000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
	CHECK(poll(&pfd, 1, 2000) == 1);
	struct timespec after;
	clock_gettime(CLOCK_MONOTONIC, &after);
	CHECK(after.tv_sec > abs.it_value.tv_sec ||
	      (after.tv_sec == abs.it_value.tv_sec && after.tv_nsec >= abs.it_value.tv_nsec));

	/* Blocking read waits for the expiry. */
	int b = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec once = {{0, 0}, {0, 20000000}};
	CHECK_OK(timerfd_settime(b, 0, &once, NULL));
	CHECK(read(b, &n, 8) == 8 && n == 1);

	/* CANCEL_ON_SET means something only for an absolute realtime timer; elsewhere it is
	 * accepted and ignored. */
	CHECK_OK(timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &once, NULL));
	/* Errors. */
	struct itimerspec bad = {{0, 0}, {0, 1000000000}};
	CHECK_ERR(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(fd, 0x100, &once, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(0, 0, &once, NULL), EINVAL);
	CHECK_ERR(timerfd_gettime(900, &cur), EBADF);
	CHECK_ERR(timerfd_settime(fd, 0, (void *)1, NULL), EFAULT);
	DONE();
}

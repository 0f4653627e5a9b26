/* clock_nanosleep: absolute deadlines on MONOTONIC and REALTIME (a past one returns at once),
 * a relative sleep interrupted by a handler reports the time left, an absolute one does not
 * touch `rem`; bad clocks and times are errors (returned, not in errno). */
#include "check.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static void on_alrm(int s)
{
	(void)s;
}

static long ms_between(struct timespec a, struct timespec b)
{
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

int main(void)
{
	struct timespec a, b, dl;
	clock_gettime(CLOCK_MONOTONIC, &a);
	dl = a;
	dl.tv_nsec += 50000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(ms_between(a, b) >= 49);
	CHECK(b.tv_sec > dl.tv_sec || (b.tv_sec == dl.tv_sec && b.tv_nsec >= dl.tv_nsec));

	/* A deadline in the past. */
	dl.tv_sec -= 10;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(ms_between(a, b) < 20);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	rt.tv_nsec += 20000000;
	if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &rt, NULL) == 0);

	/* Interrupted: relative reports the rest; absolute leaves rem alone. */
	struct sigaction sa = {.sa_handler = on_alrm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec req = {2, 0}, rem = {0, 0};
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR);
	CHECK(rem.tv_sec == 1 && rem.tv_nsec > 500000000);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 2;
	struct timespec untouched = {7, 7};
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, &untouched) == EINTR);
	CHECK(untouched.tv_sec == 7 && untouched.tv_nsec == 7);

	/* Errors are returned. */
	struct timespec bad = {0, 1000000000};
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
	bad.tv_nsec = 0;
	bad.tv_sec = -1;
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
	CHECK(clock_nanosleep(12345, 0, &req, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, (struct timespec *)8, NULL) == EFAULT);
	DONE();
}

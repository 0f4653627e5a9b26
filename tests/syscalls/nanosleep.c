#include "check.h"
#include <time.h>

static long elapsed_ms(struct timespec *a, struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	struct timespec a, b, req = { 0, 20 * 1000000 };
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_OK(nanosleep(&req, NULL));
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(elapsed_ms(&a, &b) >= 20);
	struct timespec bad = { 0, 1000000000 };
	CHECK_ERR(nanosleep(&bad, NULL), EINVAL);
	struct timespec neg = { -1, 0 };
	CHECK_ERR(nanosleep(&neg, NULL), EINVAL);
	CHECK_ERR(nanosleep(NULL, NULL), EFAULT);
	/* Absolute sleep to a deadline. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct timespec dl = a;
	dl.tv_nsec += 15 * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(elapsed_ms(&a, &b) >= 15);
	/* A deadline in the past returns at once. */
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &a, NULL) == 0);
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL);
	/* Flags other than TIMER_ABSTIME are ignored. */
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0x10, &req, NULL) == 0);
	CHECK(clock_nanosleep(12345, 0, &req, NULL) == EINVAL);
	DONE();
}

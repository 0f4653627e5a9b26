#include "check.h"
#include <sys/time.h>
#include <time.h>

int main(void)
{
	struct timespec a, b, res;
	/* Monotonic never goes back, through the vDSO and through the syscall. */
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &a));
	int mono = 1;
	for (int i = 0; i < 100000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		mono &= b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
		a = b;
	}
	CHECK(mono);
	struct timespec s;
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s));
	CHECK(s.tv_sec > a.tv_sec || (s.tv_sec == a.tv_sec && s.tv_nsec >= a.tv_nsec));
	/* Realtime agrees with time() and gettimeofday(). */
	struct timeval tv;
	CHECK_OK(clock_gettime(CLOCK_REALTIME, &a));
	CHECK_OK(gettimeofday(&tv, NULL));
	time_t t = time(NULL);
	CHECK(tv.tv_sec - a.tv_sec <= 1 && t - a.tv_sec <= 1);
	CHECK(a.tv_sec > 1600000000);
	CHECK(a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
	CHECK_OK(clock_getres(CLOCK_MONOTONIC, &res));
	CHECK(res.tv_sec == 0 && res.tv_nsec > 0);
	CHECK_OK(clock_gettime(CLOCK_BOOTTIME, &a));
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC_COARSE, &a));
	CHECK_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a));
	CHECK_ERR(syscall(SYS_clock_gettime, 12345, &a), EINVAL);
	CHECK_ERR(syscall(SYS_clock_getres, 12345, &a), EINVAL);
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);
	unsigned cpu = 999, node = 999;
	CHECK_OK(getcpu(&cpu, &node));
	CHECK(cpu < 4096 && node < 4096);
	DONE();
}

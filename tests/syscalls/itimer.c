#include "check.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile int ticks;
static void h(int s) { (void)s; ticks++; }

int main(void)
{
	signal(SIGALRM, h);
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, old;
	CHECK_OK(setitimer(ITIMER_REAL, &it, NULL));
	while (ticks < 3)
		pause();
	CHECK_OK(getitimer(ITIMER_REAL, &old));
	CHECK(old.it_interval.tv_usec == 20000);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &off, &old));
	CHECK(old.it_interval.tv_usec == 20000 && old.it_value.tv_sec == 0);
	CHECK_OK(getitimer(ITIMER_REAL, &old));
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);
	/* alarm returns the seconds left of the previous alarm. */
	CHECK(alarm(10) == 0);
	CHECK(alarm(0) == 10);
	struct itimerval bad = { { 0, 2000000 }, { 0, 0 } };
	CHECK_ERR(setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
	CHECK_ERR(setitimer(42, &it, NULL), EINVAL);
	/* nanosleep interrupted by a handler: EINTR and the time left. */
	alarm(1);
	struct timespec req = { 3, 0 }, rem = { 0, 0 };
	CHECK_ERR(nanosleep(&req, &rem), EINTR);
	CHECK(rem.tv_sec >= 1 && rem.tv_sec <= 2);
	DONE();
}

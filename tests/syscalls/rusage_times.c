/* getrusage and times: the caller's own CPU time grows with work; children's times appear
 * only once they are waited for; bad arguments are EINVAL/EFAULT. */
#include "check.h"
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

/* Use `ms` of CPU time (not wall time: a loaded machine would give less). */
static void burn(long ms)
{
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do {
		for (volatile int i = 0; i < 100000; i++)
			;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static long us(struct timeval t)
{
	return t.tv_sec * 1000000 + t.tv_usec;
}

int main(void)
{
	struct rusage r0, r1, rc;
	CHECK_OK(getrusage(RUSAGE_SELF, &r0));
	burn(200);
	CHECK_OK(getrusage(RUSAGE_SELF, &r1));
	long used = us(r1.ru_utime) + us(r1.ru_stime) - us(r0.ru_utime) - us(r0.ru_stime);
	CHECK(used >= 100000);
	CHECK(r1.ru_maxrss > 0);
	CHECK_OK(getrusage(RUSAGE_THREAD, &r1));
	CHECK_ERR(getrusage(42, &r1), EINVAL);
	CHECK_ERR(getrusage(RUSAGE_SELF, (struct rusage *)1), EFAULT);

	/* Children: nothing until waited for. */
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &rc));
	long before = us(rc.ru_utime) + us(rc.ru_stime);
	pid_t c = fork();
	if (c == 0) {
		burn(200);
		_exit(0);
	}
	usleep(300000);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &rc));
	CHECK(us(rc.ru_utime) + us(rc.ru_stime) == before);
	struct rusage wr;
	int st;
	CHECK(wait4(c, &st, 0, &wr) == c);
	CHECK(us(wr.ru_utime) + us(wr.ru_stime) >= 100000);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &rc));
	CHECK(us(rc.ru_utime) + us(rc.ru_stime) - before >= 100000);

	/* times(): clock ticks, children included after wait. */
	struct tms t;
	clock_t now = times(&t);
	CHECK(now != (clock_t)-1);
	long hz = sysconf(_SC_CLK_TCK);
	CHECK(hz == 100);
	CHECK(t.tms_utime + t.tms_stime >= 10);   /* our 200 ms */
	CHECK(t.tms_cutime + t.tms_cstime >= 10); /* the child's */
	clock_t later;
	usleep(50000);
	later = times(NULL);
	CHECK(later - now >= 4);
	DONE();
}

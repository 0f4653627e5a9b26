/* ITIMER_VIRTUAL and ITIMER_PROF: they count CPU time, not sleep; they expire during a busy
 * loop that makes no syscalls, reload from their interval, report the time left, are kept
 * across execve and not inherited by fork. */
#include "check.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile int vt, prof;
static void on_vt(int s)
{
	(void)s;
	vt++;
}
static void on_prof(int s)
{
	(void)s;
	prof++;
}

/* Spin without syscalls (the vDSO reads the clock) until `done` or `ms` of wall time. */
static void spin(volatile int *a, volatile int *b, int want, long ms)
{
	struct timespec s, e;
	clock_gettime(CLOCK_MONOTONIC, &s);
	do {
		for (volatile int i = 0; i < 10000; i++)
			;
		clock_gettime(CLOCK_MONOTONIC, &e);
	} while ((*a < want || *b < want) &&
		 (e.tv_sec - s.tv_sec) * 1000 + (e.tv_nsec - s.tv_nsec) / 1000000 < ms);
}

static long cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* Re-executed: the timer set before execve is still running. */
		struct itimerval cur;
		getitimer(ITIMER_VIRTUAL, &cur);
		return cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? 1 : 0;
	}
	signal(SIGVTALRM, on_vt);
	signal(SIGPROF, on_prof);
	struct itimerval it = {{0, 50000}, {0, 50000}}, cur;
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &it, NULL));
	CHECK_OK(setitimer(ITIMER_PROF, &it, NULL));
	/* Sleeping does not use CPU time. */
	usleep(200000);
	CHECK(vt == 0 && prof == 0);
	CHECK_OK(getitimer(ITIMER_VIRTUAL, &cur));
	CHECK(cur.it_interval.tv_usec == 50000 && cur.it_value.tv_usec > 30000);
	/* A busy loop that makes no syscalls: a signal of each about every 50 ms of CPU. */
	long c0 = cpu_ms();
	spin(&vt, &prof, 4, 20000);
	long used = cpu_ms() - c0;
	CHECK(vt >= 4 && prof >= 4);
	/* Four expiries of 50 ms took at least 150 ms of CPU (and not wildly more). */
	CHECK(used >= 150 && used < 2000);
	/* Not inherited by a child. */
	pid_t c = fork();
	if (c == 0) {
		struct itimerval x;
		getitimer(ITIMER_PROF, &x);
		_exit(x.it_value.tv_sec == 0 && x.it_value.tv_usec == 0 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Kept across execve. */
	c = fork();
	if (c == 0) {
		struct itimerval one = {{0, 0}, {10, 0}};
		setitimer(ITIMER_VIRTUAL, &one, NULL);
		signal(SIGVTALRM, SIG_IGN);
		execl("/proc/self/exe", argv[0], "exec", NULL);
		_exit(127);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Disarm; old value returned. */
	struct itimerval zero = {{0, 0}, {0, 0}}, old;
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &zero, &old));
	CHECK(old.it_interval.tv_usec == 50000);
	CHECK_OK(setitimer(ITIMER_PROF, &zero, NULL));
	int before = vt, none = 0;
	spin(&none, &none, 1, 100);
	CHECK(vt == before);
	CHECK_ERR(setitimer(5, &it, NULL), EINVAL);
	it.it_value.tv_usec = 1000000;
	CHECK_ERR(setitimer(ITIMER_VIRTUAL, &it, NULL), EINVAL);
	DONE();
}

/* POSIX timers: SIGEV_THREAD_ID delivers to the chosen thread; overruns are counted while the
 * signal is pending; timer_settime's old value and absolute times; a CLOCK_MONOTONIC timer
 * with an interval keeps firing; errors for bad ids, clocks and notify kinds. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static volatile pid_t target_tid, got_tid;
static volatile int stop;

static void on_rt(int s, siginfo_t *si, void *u)
{
	(void)s;
	(void)u;
	(void)si;
	got_tid = syscall(SYS_gettid);
}

static void *spin(void *a)
{
	(void)a;
	target_tid = syscall(SYS_gettid);
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	pthread_t t;
	pthread_create(&t, NULL, spin, NULL);
	while (!target_tid)
		usleep(1000);

	/* SIGEV_THREAD_ID: the signal goes to that thread. */
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_notify_thread_id = target_tid;
	timer_t tm;
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &ev, &tm));
	struct itimerspec its = {{0, 0}, {0, 10000000}}, old;
	CHECK_OK(timer_settime(tm, 0, &its, NULL));
	for (int i = 0; i < 1000 && !got_tid; i++)
		usleep(1000);
	CHECK(got_tid == target_tid);
	/* A thread of another process, or none: EINVAL. */
	ev.sigev_notify_thread_id = 4000000;
	timer_t bad;
	CHECK_ERR(timer_create(CLOCK_MONOTONIC, &ev, &bad), EINVAL);
	stop = 1;
	pthread_join(t, NULL);
	CHECK_OK(timer_delete(tm));

	/* Overruns: with the signal blocked, expiries pile up as overruns. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 1;
	ev.sigev_value.sival_int = 77;
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &ev, &tm));
	struct itimerspec per = {{0, 5000000}, {0, 5000000}};
	CHECK_OK(timer_settime(tm, 0, &per, NULL));
	usleep(100000);
	siginfo_t si;
	CHECK(sigwaitinfo(&m, &si) == SIGRTMIN + 1);
	CHECK(si.si_code == SI_TIMER && si.si_value.sival_int == 77);
	CHECK(si.si_overrun >= 5);
	/* timer_getoverrun reports the overrun of the last delivered expiry. */
	CHECK(timer_getoverrun(tm) == si.si_overrun);
	/* The old value comes back from timer_settime. */
	struct itimerspec zero = {{0, 0}, {0, 0}};
	CHECK_OK(timer_settime(tm, 0, &zero, &old));
	CHECK(old.it_interval.tv_nsec == 5000000);
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec <= 5000000);
	CHECK_OK(timer_gettime(tm, &old));
	CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0);

	/* Absolute expiry (on the timer's clock). */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct itimerspec abs = {{0, 0}, {now.tv_sec + 100, 0}};
	CHECK_OK(timer_settime(tm, TIMER_ABSTIME, &abs, NULL));
	CHECK_OK(timer_gettime(tm, &old));
	CHECK(old.it_value.tv_sec >= 98 && old.it_value.tv_sec <= 100);
	CHECK_OK(timer_delete(tm));
	CHECK_ERR(timer_delete(tm), EINVAL);
	CHECK_ERR(timer_gettime(tm, &old), EINVAL);

	/* Bad clock, bad notify. */
	CHECK_ERR(timer_create(12345, NULL, &bad), EINVAL);
	ev.sigev_notify = 99;
	CHECK_ERR(timer_create(CLOCK_MONOTONIC, &ev, &bad), EINVAL);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 65;
	CHECK_ERR(timer_create(CLOCK_MONOTONIC, &ev, &bad), EINVAL);
	DONE();
}

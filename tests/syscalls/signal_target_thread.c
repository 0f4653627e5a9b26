#include "check.h"
#include <pthread.h>
#include <signal.h>

static volatile pid_t handled_by;
static void h(int s)
{
	(void)s;
	handled_by = syscall(SYS_gettid);
}

static pid_t worker_tid;
static volatile int stop;
static void *worker(void *a)
{
	(void)a;
	worker_tid = syscall(SYS_gettid);
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	signal(SIGUSR1, h);
	/* The main thread blocks SIGUSR1: a process-directed one goes to the worker. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	while (!worker_tid)
		usleep(1000);
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 2000 && !handled_by; i++)
		usleep(1000);
	CHECK(handled_by == worker_tid);
	/* A thread-directed one goes to that thread even if others could take it. */
	handled_by = 0;
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1);
	for (int i = 0; i < 2000 && !handled_by; i++)
		usleep(1000);
	CHECK(handled_by == worker_tid);
	stop = 1;
	pthread_join(t, NULL);
	DONE();
}

/* Signals and threads: per-thread masks; pthread_kill reaches exactly that thread; a
 * process-directed signal goes to a thread that does not block it; sigwait in a dedicated
 * thread takes signals all others block; a thread's pending set is its own. */
#include "check.h"
#include <pthread.h>
#include <signal.h>

static volatile pid_t handled_by;
static void on_usr1(int s)
{
	(void)s;
	handled_by = syscall(SYS_gettid);
}

static volatile pid_t worker_tid;
static volatile int stop;

static void *worker(void *a)
{
	(void)a;
	worker_tid = syscall(SYS_gettid);
	/* This thread accepts SIGUSR1; main blocks it. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	while (!stop)
		usleep(1000);
	return NULL;
}

static void *waiter(void *a)
{
	sigset_t *set = a;
	int sig = 0;
	sigwait(set, &sig);
	return (void *)(long)sig;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &m, NULL));
	pthread_t w;
	pthread_create(&w, NULL, worker, NULL);
	while (!worker_tid)
		usleep(1000);

	/* Process-directed: only the worker has it unblocked, so the worker runs the handler. */
	CHECK_OK(kill(getpid(), SIGUSR1));
	for (int i = 0; i < 1000 && !handled_by; i++)
		usleep(1000);
	CHECK(handled_by == worker_tid);

	/* Thread-directed at main (which blocks it): it stays pending for main only. */
	handled_by = 0;
	CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0);
	usleep(50000);
	CHECK(handled_by == 0);
	sigset_t p;
	sigpending(&p);
	CHECK(sigismember(&p, SIGUSR1));
	/* Unblocking it in main delivers it in main. */
	CHECK_OK(pthread_sigmask(SIG_UNBLOCK, &m, NULL));
	CHECK(handled_by == syscall(SYS_gettid));
	stop = 1;
	pthread_join(w, NULL);

	/* A sigwait thread: all threads block SIGUSR2; the waiter takes it. */
	sigset_t u2;
	sigemptyset(&u2);
	sigaddset(&u2, SIGUSR2);
	CHECK_OK(pthread_sigmask(SIG_BLOCK, &u2, NULL));
	pthread_t wt;
	pthread_create(&wt, NULL, waiter, &u2);
	usleep(20000);
	CHECK_OK(kill(getpid(), SIGUSR2));
	void *got;
	pthread_join(wt, &got);
	CHECK(got == (void *)(long)SIGUSR2);

	/* pthread_kill with signal 0 checks the thread; an invalid signal is EINVAL. */
	CHECK(pthread_kill(pthread_self(), 0) == 0);
	CHECK(pthread_kill(pthread_self(), 99) == EINVAL);
	DONE();
}

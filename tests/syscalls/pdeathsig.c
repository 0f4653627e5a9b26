/* PR_SET_PDEATHSIG: the signal arrives when the parent exits; it is cleared in a forked child
 * and kept across execve (of a non-setuid program). */
#include "check.h"
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static volatile sig_atomic_t got;
static void on_usr1(int s)
{
	(void)s;
	got = 1;
}

static int tp[2];
static pid_t thread_child;

/* A thread forks a child that asks for SIGUSR1 when its parent dies, then the thread exits. */
static void *forker(void *a)
{
	(void)a;
	thread_child = fork();
	if (thread_child == 0) {
		signal(SIGUSR1, on_usr1);
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		char c = 'r';
		if (write(tp[1], &c, 1) != 1)
			_exit(2);
		for (int i = 0; i < 500 && !got; i++)
			usleep(10000);
		_exit(got ? 0 : 1);
	}
	char c;
	if (read(tp[0], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* Re-executed: report the death signal we kept. */
		int v = 0;
		prctl(PR_GET_PDEATHSIG, &v);
		return v == SIGUSR2 ? 0 : 1;
	}
	int p[2];
	CHECK_OK(pipe(p));
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			signal(SIGUSR1, on_usr1);
			CHECK_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1));
			int v = 0;
			prctl(PR_GET_PDEATHSIG, &v);
			/* Tell the middle process to exit, then wait for the signal. */
			if (write(p[1], &v, sizeof v) != sizeof v)
				_exit(2);
			for (int i = 0; i < 500 && !got; i++)
				usleep(10000);
			/* Report to the original parent through the pipe. */
			char r = got ? 'Y' : 'N';
			if (write(p[1], &r, 1) != 1)
				_exit(3);
			_exit(0);
		}
		int v;
		if (read(p[0], &v, sizeof v) != sizeof v || v != SIGUSR1)
			_exit(4);
		_exit(0);
	}
	int st;
	CHECK(waitpid(mid, &st, 0) == mid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char r = 0;
	CHECK(read(p[0], &r, 1) == 1);
	CHECK(r == 'Y');

	/* Cleared for a forked child; kept across execve. */
	CHECK_OK(prctl(PR_SET_PDEATHSIG, SIGUSR2));
	pid_t c = fork();
	if (c == 0) {
		int v = -1;
		prctl(PR_GET_PDEATHSIG, &v);
		if (v != 0)
			_exit(1);
		prctl(PR_SET_PDEATHSIG, SIGUSR2);
		execl("/proc/self/exe", argv[0], "exec", NULL);
		_exit(127);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65), EINVAL);

	/* The "parent" is the thread that forked: its exit sends the signal, though the process
	 * lives on (Linux's real_parent is a thread). */
	CHECK_OK(prctl(PR_SET_PDEATHSIG, 0));
	CHECK_OK(pipe(tp));
	pthread_t t;
	pthread_create(&t, NULL, forker, NULL);
	void *r2;
	pthread_join(t, &r2);
	CHECK(r2 == NULL);
	CHECK(waitpid(thread_child, &st, 0) == thread_child && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0);
	DONE();
}

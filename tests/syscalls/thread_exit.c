#include "check.h"
#include <pthread.h>
#include <sys/wait.h>

static void *spin(void *a)
{
	(void)a;
	for (;;)
		pause();
	return NULL;
}

static void *exit_all(void *a)
{
	(void)a;
	usleep(20000);
	exit(6); /* exit_group from a thread ends every thread */
}

int main(void)
{
	pid_t p = fork();
	if (p == 0) {
		pthread_t t1, t2;
		pthread_create(&t1, NULL, spin, NULL);
		pthread_create(&t2, NULL, exit_all, NULL);
		for (;;)
			pause();
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 6);
	/* gettid differs per thread; getpid does not. */
	pthread_t t;
	static pid_t tid2, pid2;
	void *f(void *a) { (void)a; tid2 = syscall(SYS_gettid); pid2 = getpid(); return NULL; }
	pthread_create(&t, NULL, f, NULL);
	pthread_join(t, NULL);
	CHECK(pid2 == getpid() && tid2 != getpid() && tid2 > 0);
	DONE();
}

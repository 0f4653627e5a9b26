#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static volatile long counter;
static void *count(void *a)
{
	(void)a;
	for (;;)
		__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	return NULL;
}

int main(void)
{
	/* SIGSTOP stops every thread of a process; SIGCONT resumes them all. */
	long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t p = fork();
	if (p == 0) {
		pthread_t t;
		pthread_create(&t, NULL, count, NULL);
		for (;;) {
			shared[0] = counter;
			usleep(1000);
		}
	}
	usleep(50000);
	CHECK_OK(kill(p, SIGSTOP));
	int st;
	CHECK(waitpid(p, &st, WUNTRACED) == p && WIFSTOPPED(st));
	long a = shared[0];
	usleep(50000);
	CHECK(shared[0] == a); /* nothing runs while stopped */
	CHECK_OK(kill(p, SIGCONT));
	usleep(50000);
	CHECK(shared[0] != a);
	kill(p, SIGKILL);
	CHECK(waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	DONE();
}

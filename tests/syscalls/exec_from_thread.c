#include "check.h"
#include <pthread.h>
#include <sys/wait.h>

static void *spinner(void *a)
{
	(void)a;
	for (;;)
		pause();
	return NULL;
}

static void *execer(void *a)
{
	(void)a;
	usleep(20000);
	execl("/proc/self/exe", "exec_from_thread", "check", (char *)NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		/* After execve from a non-main thread, that thread has taken the leader's id. */
		return syscall(SYS_gettid) == getpid() ? 23 : 24;
	}
	/* execve from a non-main thread replaces the whole process: the other threads go. */
	pid_t p = fork();
	if (p == 0) {
		pthread_t a, b, c;
		pthread_create(&a, NULL, spinner, NULL);
		pthread_create(&b, NULL, spinner, NULL);
		pthread_create(&c, NULL, execer, NULL);
		for (;;)
			pause();
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 23);
	DONE();
}

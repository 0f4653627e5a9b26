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
	execl("/bin/sh", "sh", "-c", "exit 23", (char *)NULL);
	return NULL;
}

int main(void)
{
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

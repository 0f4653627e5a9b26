/* Threads and process exit: exit_group from any thread ends all of them with its status; a
 * main thread that exits alone leaves the process running until the last thread exits, whose
 * status is the process's; a fatal signal kills every thread. */
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static void *blocker(void *a)
{
	(void)a;
	for (;;)
		pause();
	return NULL;
}

static void *exiter(void *a)
{
	usleep(20000);
	syscall(SYS_exit_group, (int)(long)a);
	return NULL;
}

static void *late(void *a)
{
	(void)a;
	usleep(100000);
	syscall(SYS_exit, 9); /* last thread: its status is the process's */
	return NULL;
}

static void *crasher(void *a)
{
	(void)a;
	usleep(20000);
	*(volatile int *)8 = 1;
	return NULL;
}

static int run(void (*fn)(void))
{
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(100);
	}
	int st;
	if (waitpid(c, &st, 0) != c)
		return -1;
	return st;
}

static void group_exit_from_thread(void)
{
	pthread_t t;
	for (int i = 0; i < 4; i++)
		pthread_create(&t, NULL, blocker, NULL);
	pthread_create(&t, NULL, exiter, (void *)42L);
	for (;;)
		pause();
}

static void main_thread_exits_first(void)
{
	pthread_t t;
	pthread_create(&t, NULL, late, NULL);
	syscall(SYS_exit, 0);
}

static void thread_crashes(void)
{
	pthread_t t;
	pthread_create(&t, NULL, blocker, NULL);
	pthread_create(&t, NULL, crasher, NULL);
	for (;;)
		pause();
}

int main(void)
{
	int st = run(group_exit_from_thread);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	st = run(main_thread_exits_first);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	st = run(thread_crashes);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

	/* While the main thread is a zombie, the process is alive: kill(pid, 0) works. */
	pid_t c = fork();
	if (c == 0)
		main_thread_exits_first();
	usleep(30000);
	CHECK_OK(kill(c, 0));
	CHECK(waitpid(c, &st, WNOHANG) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 9);
	DONE();
}

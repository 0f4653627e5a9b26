/* SEM_UNDO: a process's adjustments are undone when it exits, shared by its threads (undone
 * when the last one exits), not inherited by fork, cancelled by SETVAL, clamped at zero. */
#include "check.h"
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int id;

static int op(unsigned short num, short delta, short flg)
{
	struct sembuf b = {num, delta, flg};
	return semop(id, &b, 1);
}

static int run_child(void (*fn)(void))
{
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(0);
	}
	int st;
	return waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void take_two(void)
{
	op(0, -2, SEM_UNDO);
	op(1, 3, SEM_UNDO);
	op(1, -1, 0); /* not undone */
}

static void *thread_take(void *a)
{
	(void)a;
	op(0, -1, SEM_UNDO);
	return NULL;
}

static void threads(void)
{
	pthread_t t;
	pthread_create(&t, NULL, thread_take, NULL);
	pthread_join(t, NULL);
	/* The thread is gone but the process lives: its adjustment is still pending. */
	if (semctl(id, 0, GETVAL) != 9)
		_exit(2);
}

static void fork_grandchild(void)
{
	op(0, -1, SEM_UNDO);
	pid_t g = fork();
	if (g == 0)
		_exit(0); /* has no adjustments of its own */
	waitpid(g, NULL, 0);
	if (semctl(id, 0, GETVAL) != 9)
		_exit(2);
}

static void then_setval(void)
{
	op(0, 5, SEM_UNDO);
	union semun u = {.val = 1};
	semctl(id, 0, SETVAL, u);
}

static void clamp(void)
{
	op(0, 4, SEM_UNDO);
	union semun u = {.val = 2};
	semctl(id, 0, SETVAL, u); /* cancels the +4 adjustment... */
	op(0, 1, SEM_UNDO);       /* ...this one (-1 at exit) stays */
	op(0, -3, 0);             /* value 0: undoing -1 clamps at 0 */
}

static void range(void)
{
	union semun u = {.val = 0};
	semctl(id, 1, SETVAL, u);
	/* Adjustments may range over [-32768, 32767] (SEMAEM). */
	if (op(1, 32767, SEM_UNDO) != 0)
		_exit(3);
	op(1, -1, 0);
	if (op(1, 1, SEM_UNDO) != 0) /* adjustment -32768 */
		_exit(4);
	op(1, -1, 0);
	if (op(1, 1, SEM_UNDO) != -1 || errno != ERANGE)
		_exit(5);
	/* Value 32766; undoing -32768 at exit clamps at 0. */
}

int main(void)
{
	id = semget(IPC_PRIVATE, 2, 0600);
	CHECK(id >= 0);
	union semun u = {.val = 10};
	CHECK_OK(semctl(id, 0, SETVAL, u));
	u.val = 5;
	CHECK_OK(semctl(id, 1, SETVAL, u));

	CHECK(run_child(take_two) == 0);
	CHECK(semctl(id, 0, GETVAL) == 10);
	CHECK(semctl(id, 1, GETVAL) == 4);

	CHECK(run_child(threads) == 0);
	CHECK(semctl(id, 0, GETVAL) == 10);

	CHECK(run_child(fork_grandchild) == 0);
	CHECK(semctl(id, 0, GETVAL) == 10);

	CHECK(run_child(then_setval) == 0);
	CHECK(semctl(id, 0, GETVAL) == 1);

	CHECK(run_child(clamp) == 0);
	CHECK(semctl(id, 0, GETVAL) == 0);

	CHECK(run_child(range) == 0);
	CHECK(semctl(id, 1, GETVAL) == 0);

	/* Adjustments survive execve: the undo is applied when the exec'd program exits. */
	u.val = 5;
	CHECK_OK(semctl(id, 0, SETVAL, u));
	pid_t c = fork();
	if (c == 0) {
		op(0, -5, SEM_UNDO);
		execl("/bin/sh", "sh", "-c", "exit 0", NULL);
		_exit(127);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(semctl(id, 0, GETVAL) == 5);

	/* Our own adjustment is pending until we exit; removing the set drops it. */
	CHECK_OK(op(0, -1, SEM_UNDO));
	CHECK(semctl(id, 0, GETVAL) == 4);
	CHECK_OK(semctl(id, 0, IPC_RMID));
	DONE();
}

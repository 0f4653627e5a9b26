/* Blocking semop: waiters counted by GETNCNT/GETZCNT, woken by the operation that lets them
 * through, by removal (EIDRM), and interrupted by a signal (EINTR even with SA_RESTART). */
#include "check.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int op(int id, unsigned short num, short delta)
{
	struct sembuf b = {num, delta, 0};
	return semop(id, &b, 1);
}

/* Wait (up to 5 s) until `cmd` on semaphore `num` reports `want`. */
static int wait_count(int id, int num, int cmd, int want)
{
	for (int i = 0; i < 500; i++) {
		if (semctl(id, num, cmd) == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void on_usr1(int s)
{
	(void)s;
}

int main(void)
{
	int id = semget(IPC_PRIVATE, 2, 0600);
	CHECK(id >= 0);

	/* A child blocks decrementing; GETNCNT sees it; an increment lets it through. */
	pid_t c = fork();
	if (c == 0)
		_exit(op(id, 0, -2) == 0 ? 0 : 1);
	CHECK(wait_count(id, 0, GETNCNT, 1));
	CHECK(semctl(id, 0, GETZCNT) == 0);
	CHECK_OK(op(id, 0, 1));
	usleep(50000);
	CHECK(semctl(id, 0, GETNCNT) == 1); /* 1 is not enough */
	CHECK_OK(op(id, 0, 1));
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(semctl(id, 0, GETVAL) == 0);
	CHECK(semctl(id, 0, GETPID) == c);
	CHECK(semctl(id, 0, GETNCNT) == 0);

	/* Waiting for zero. */
	union semun u = {.val = 3};
	CHECK_OK(semctl(id, 1, SETVAL, u));
	c = fork();
	if (c == 0)
		_exit(op(id, 1, 0) == 0 ? 0 : 1);
	CHECK(wait_count(id, 1, GETZCNT, 1));
	CHECK_OK(op(id, 1, -3));
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* A signal interrupts the wait with EINTR, even with SA_RESTART. */
	c = fork();
	if (c == 0) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		int r = op(id, 0, -1);
		_exit(r == -1 && errno == EINTR ? 0 : 1);
	}
	CHECK(wait_count(id, 0, GETNCNT, 1));
	CHECK_OK(kill(c, SIGUSR1));
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(semctl(id, 0, GETNCNT) == 0);

	/* Removing the set wakes waiters with EIDRM. */
	c = fork();
	if (c == 0) {
		int r = op(id, 0, -1);
		_exit(r == -1 && errno == EIDRM ? 0 : 1);
	}
	CHECK(wait_count(id, 0, GETNCNT, 1));
	CHECK_OK(semctl(id, 0, IPC_RMID));
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* A semaphore as a lock between processes: 4 children add 1000 each under it. */
	int lock = semget(IPC_PRIVATE, 1, 0600);
	int cnt = semget(IPC_PRIVATE, 1, 0600);
	CHECK(lock >= 0 && cnt >= 0);
	u.val = 1;
	CHECK_OK(semctl(lock, 0, SETVAL, u));
	for (int i = 0; i < 4; i++) {
		if (fork() == 0) {
			for (int j = 0; j < 1000; j++) {
				op(lock, 0, -1);
				int v = semctl(cnt, 0, GETVAL);
				union semun w = {.val = (v + 1) % 32768};
				semctl(cnt, 0, SETVAL, w);
				op(lock, 0, 1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++)
		wait(NULL);
	CHECK(semctl(cnt, 0, GETVAL) == 4000);
	semctl(lock, 0, IPC_RMID);
	semctl(cnt, 0, IPC_RMID);
	DONE();
}

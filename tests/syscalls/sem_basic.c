/* System V semaphores: values, atomic multi-operation semop, and the errors of each call. */
#include "check.h"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int op(int id, unsigned short num, short delta, short flg)
{
	struct sembuf b = {num, delta, flg};
	return semop(id, &b, 1);
}

int main(void)
{
	key_t key = 0x5b000000 | getpid();
	CHECK_ERR(semget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, -1, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, 32001, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(semget(key, 3, 0600), ENOENT);
	int id = semget(key, 3, IPC_CREAT | 0640);
	CHECK(id >= 0);
	CHECK(semget(key, 0, 0) == id);
	CHECK(semget(key, 3, 0) == id);
	CHECK_ERR(semget(key, 4, 0), EINVAL);
	CHECK_ERR(semget(key, 3, IPC_CREAT | IPC_EXCL), EEXIST);

	struct semid_ds ds;
	union semun u = {.buf = &ds};
	CHECK_OK(semctl(id, 0, IPC_STAT, u));
	CHECK(ds.sem_nsems == 3 && ds.sem_otime == 0 && ds.sem_ctime > 0);
	CHECK((ds.sem_perm.mode & 0777) == 0640 && ds.sem_perm.__key == key);

	/* New semaphores are zero. */
	for (int i = 0; i < 3; i++)
		CHECK(semctl(id, i, GETVAL) == 0);
	u.val = 5;
	CHECK_OK(semctl(id, 1, SETVAL, u));
	CHECK(semctl(id, 1, GETVAL) == 5);
	CHECK(semctl(id, 1, GETPID) == getpid());
	u.val = 32768;
	CHECK_ERR(semctl(id, 1, SETVAL, u), ERANGE);
	u.val = -1;
	CHECK_ERR(semctl(id, 1, SETVAL, u), ERANGE);
	CHECK_ERR(semctl(id, 3, GETVAL), EINVAL);
	CHECK_ERR(semctl(id, -1, GETVAL), EINVAL);

	/* semop: changes, IPC_NOWAIT, range. */
	CHECK_OK(op(id, 0, 2, 0));
	CHECK(semctl(id, 0, GETVAL) == 2);
	CHECK_OK(op(id, 0, -2, 0));
	CHECK_ERR(op(id, 0, -1, IPC_NOWAIT), EAGAIN);
	CHECK_ERR(op(id, 1, 0, IPC_NOWAIT), EAGAIN);
	CHECK_OK(op(id, 0, 0, 0));
	u.val = 32767;
	CHECK_OK(semctl(id, 2, SETVAL, u));
	CHECK_ERR(op(id, 2, 1, 0), ERANGE);
	CHECK_ERR(op(id, 3, 1, 0), EFBIG);
	u.buf = &ds;
	CHECK_OK(semctl(id, 0, IPC_STAT, u));
	CHECK(ds.sem_otime > 0);

	/* All or nothing: the second operation cannot proceed, so the first is not applied. */
	struct sembuf two[2] = {{0, 1, 0}, {1, -6, IPC_NOWAIT}};
	CHECK_ERR(semop(id, two, 2), EAGAIN);
	CHECK(semctl(id, 0, GETVAL) == 0 && semctl(id, 1, GETVAL) == 5);
	two[1].sem_op = -5;
	CHECK_OK(semop(id, two, 2));
	CHECK(semctl(id, 0, GETVAL) == 1 && semctl(id, 1, GETVAL) == 0);
	/* Operations on one semaphore apply in order. */
	struct sembuf seq[3] = {{0, 3, 0}, {0, -4, 0}, {0, 0, 0}};
	CHECK_OK(semop(id, seq, 3));
	CHECK(semctl(id, 0, GETVAL) == 0);

	/* GETALL / SETALL. */
	unsigned short vals[3] = {7, 8, 9}, got[3] = {0};
	u.array = vals;
	CHECK_OK(semctl(id, 0, SETALL, u));
	u.array = got;
	CHECK_OK(semctl(id, 0, GETALL, u));
	CHECK(got[0] == 7 && got[1] == 8 && got[2] == 9);
	unsigned short bad[3] = {1, 40000, 1};
	u.array = bad;
	CHECK_ERR(semctl(id, 0, SETALL, u), ERANGE);
	u.array = (unsigned short *)1;
	CHECK_ERR(semctl(id, 0, GETALL, u), EFAULT);

	/* semop argument errors. */
	struct sembuf b = {0, -100, 0};
	CHECK_ERR(semop(id, &b, 0), EINVAL);
	CHECK_ERR(semop(-1, &b, 1), EINVAL);
	CHECK_ERR(semop(id, (struct sembuf *)1, 1), EFAULT);
	static struct sembuf many[501];
	CHECK_ERR(semop(id, many, 501), E2BIG);
	/* An id no set can have (its index, the id modulo 32768, is past SEMMNI's 32000): not
	 * id + 1, which may be the set of a program running beside this one. */
	CHECK_ERR(semop(32767, &b, 1), EINVAL);

	/* semtimedop: a timeout that expires is EAGAIN; a bad timeout EINVAL. */
	struct timespec ts = {0, 50 * 1000 * 1000}, t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_ERR(semtimedop(id, &b, 1, &ts), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 45 && ms < 2000);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(semtimedop(id, &b, 1, &ts), EINVAL);
	ts.tv_nsec = 0;
	ts.tv_sec = -1;
	CHECK_ERR(semtimedop(id, &b, 1, &ts), EINVAL);

	/* IPC_SET changes the mode; unknown commands are EINVAL. */
	ds.sem_perm.mode = 0600;
	u.buf = &ds;
	CHECK_OK(semctl(id, 0, IPC_SET, u));
	CHECK_OK(semctl(id, 0, IPC_STAT, u));
	CHECK((ds.sem_perm.mode & 0777) == 0600);
	CHECK_ERR(semctl(id, 0, 9999), EINVAL);

	CHECK_OK(semctl(id, 0, IPC_RMID));
	CHECK_ERR(semctl(id, 0, GETVAL), EINVAL);
	CHECK_ERR(op(id, 0, 1, 0), EINVAL);
	DONE();
}

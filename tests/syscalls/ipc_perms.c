/* System V IPC permissions (run as root): other users need the mode bits, only the owner or
 * creator may IPC_SET/IPC_RMID, ownership moves with IPC_SET; plus *_STAT by index and the
 * IPC_INFO limits. */
#include "check.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#ifndef SHM_STAT
#define SHM_STAT 13
#define SHM_INFO 14
#endif

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

static int shm, sem, msq;

static int as_nobody(int (*fn)(void))
{
	pid_t c = fork();
	if (c == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(100);
		_exit(fn());
	}
	int st;
	return waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Exit code: the number of the first expectation that failed. */
static int denied(void)
{
	struct sembuf b = {0, 1, 0};
	struct {
		long t;
		char c;
	} m = {1, 0};
	struct shmid_ds ds;
	if (shmat(shm, NULL, SHM_RDONLY) != (void *)-1 || errno != EACCES)
		return 1;
	if (semop(sem, &b, 1) != -1 || errno != EACCES)
		return 2;
	if (msgsnd(msq, &m, 1, 0) != -1 || errno != EACCES)
		return 3;
	if (shmctl(shm, IPC_STAT, &ds) != -1 || errno != EACCES)
		return 4;
	if (shmctl(shm, IPC_RMID, NULL) != -1 || errno != EPERM)
		return 5;
	if (semctl(sem, 0, IPC_RMID) != -1 || errno != EPERM)
		return 6;
	if (msgctl(msq, IPC_RMID, NULL) != -1 || errno != EPERM)
		return 7;
	/* get checks only the permissions asked for in its flags. */
	if (shmget(0x5d000000 | getppid(), 0, 0) != shm)
		return 8;
	if (shmget(0x5d000000 | getppid(), 0, 0400) != -1 || errno != EACCES)
		return 9;
	return 0;
}

static int readable(void)
{
	struct sembuf rd = {0, 0, IPC_NOWAIT}, wr = {0, 1, 0};
	void *p = shmat(shm, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return 1;
	if (shmat(shm, NULL, 0) != (void *)-1 || errno != EACCES)
		return 2;
	if (semop(sem, &rd, 1) != 0) /* waiting for zero only reads */
		return 3;
	if (semop(sem, &wr, 1) != -1 || errno != EACCES)
		return 4;
	return 0;
}

static int owner(void)
{
	/* Made owner by IPC_SET: may change and remove it, though root created it. */
	struct shmid_ds ds;
	if (shmctl(shm, IPC_STAT, &ds) != 0)
		return 1;
	ds.shm_perm.mode = 0;
	if (shmctl(shm, IPC_SET, &ds) != 0)
		return 2;
	if (shmctl(shm, IPC_RMID, NULL) != 0)
		return 3;
	return 0;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "needs root\n");
		return 1;
	}
	shm = shmget(0x5d000000 | getpid(), 4096, IPC_CREAT | 0600);
	sem = semget(IPC_PRIVATE, 1, 0600);
	msq = msgget(IPC_PRIVATE, 0600);
	CHECK(shm >= 0 && sem >= 0 && msq >= 0);
	CHECK(as_nobody(denied) == 0);

	/* Read permission for others. */
	struct shmid_ds ds;
	CHECK_OK(shmctl(shm, IPC_STAT, &ds));
	ds.shm_perm.mode = 0604;
	CHECK_OK(shmctl(shm, IPC_SET, &ds));
	struct semid_ds sds;
	union semun u = {.buf = &sds};
	CHECK_OK(semctl(sem, 0, IPC_STAT, u));
	sds.sem_perm.mode = 0604;
	CHECK_OK(semctl(sem, 0, IPC_SET, u));
	CHECK(as_nobody(readable) == 0);

	/* Hand the segment to nobody. */
	CHECK_OK(shmctl(shm, IPC_STAT, &ds));
	ds.shm_perm.uid = 65534;
	CHECK_OK(shmctl(shm, IPC_SET, &ds));
	CHECK_OK(shmctl(shm, IPC_STAT, &ds));
	CHECK(ds.shm_perm.uid == 65534 && ds.shm_perm.cuid == 0);
	CHECK(as_nobody(owner) == 0);
	CHECK_ERR(shmctl(shm, IPC_STAT, &ds), EINVAL);

	/* *_STAT takes an index and returns the id; IPC_INFO reports the limits. */
	struct msginfo mi;
	int maxidx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
	CHECK(maxidx >= msq % 32768);
	CHECK(mi.msgmax == 8192 && mi.msgmnb == 16384);
	struct msqid_ds mds;
	CHECK(msgctl(msq % 32768, MSG_STAT, &mds) == msq);
	struct seminfo si;
	u.info = &si;
	CHECK(semctl(0, 0, IPC_INFO, u) >= sem % 32768);
	CHECK(si.semvmx == 32767 && si.semopm >= 500 && si.semmsl >= 250);
	u.buf = &sds;
	CHECK(semctl(sem % 32768, 0, SEM_STAT, u) == sem);
	CHECK(sds.sem_nsems == 1);
	struct shminfo shi;
	CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&shi) >= 0);
	CHECK(shi.shmmni >= 4096 && shi.shmmin == 1);

	CHECK_OK(semctl(sem, 0, IPC_RMID));
	CHECK_OK(msgctl(msq, IPC_RMID, NULL));
	DONE();
}

/* System V shared memory: create, attach, share across fork, attach counts, detach, removal
 * while attached, and the errors of each call. */
#include "check.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

static int nattch(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) != 0)
		return -1;
	return (int)ds.shm_nattch;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	key_t key = 0x5a000000 | getpid();

	/* Creation errors. */
	CHECK_ERR(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
	CHECK_ERR(shmget(key, 4096, 0600), ENOENT);

	int id = shmget(key, 3 * page + 100, IPC_CREAT | 0600);
	CHECK(id >= 0);
	CHECK_ERR(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	CHECK(shmget(key, 0, 0) == id);
	CHECK(shmget(key, 3 * page + 100, 0600) == id);
	CHECK_ERR(shmget(key, 3 * page + 101, 0600), EINVAL);

	struct shmid_ds ds;
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK(ds.shm_segsz == (size_t)(3 * page + 100));
	CHECK(ds.shm_perm.__key == key);
	CHECK((ds.shm_perm.mode & 0777) == 0600);
	CHECK(ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid());
	CHECK(ds.shm_cpid == getpid());
	CHECK(ds.shm_nattch == 0 && ds.shm_atime == 0 && ds.shm_lpid == 0);
	CHECK(ds.shm_ctime > 0);

	/* Attach: new memory is zero; the mapping covers whole pages. */
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	CHECK(p[0] == 0 && p[4 * page - 1] == 0);
	strcpy(p, "parent");
	CHECK(nattch(id) == 1);
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK(ds.shm_lpid == getpid() && ds.shm_atime > 0);

	/* A second attachment of the same segment sees the same memory. */
	char *q = shmat(id, NULL, SHM_RDONLY);
	CHECK(q != (void *)-1 && q != p);
	CHECK(strcmp(q, "parent") == 0);
	CHECK(nattch(id) == 2);

	/* Forked children inherit attachments (and count), and share the memory. */
	int pipefd[2];
	CHECK_OK(pipe(pipefd));
	pid_t c = fork();
	if (c == 0) {
		char ch;
		strcpy(p + page, "child");
		if (nattch(id) != 4)
			_exit(2);
		if (read(pipefd[0], &ch, 1) != 1)
			_exit(3);
		_exit(0);
	}
	usleep(100000);
	CHECK(nattch(id) == 4);
	CHECK_OK(write(pipefd[1], "x", 1));
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strcmp(q + page, "child") == 0);
	CHECK(nattch(id) == 2);

	/* Writing through the read-only attachment is SIGSEGV. */
	c = fork();
	if (c == 0) {
		q[0] = 1;
		_exit(0);
	}
	CHECK(waitpid(c, &st, 0) == c);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	/* ... and mprotect cannot make it writable. */
	CHECK_ERR(mprotect(q, page, PROT_READ | PROT_WRITE), EACCES);

	/* Detach. */
	CHECK_OK(shmdt(q));
	CHECK(nattch(id) == 1);
	CHECK_ERR(shmdt(q), EINVAL);
	CHECK_ERR(shmdt(p + 1), EINVAL);
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK(ds.shm_dtime > 0);

	/* Attach at an address: it must be page aligned unless SHM_RND rounds it down. */
	char *want = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(want != MAP_FAILED);
	CHECK_OK(munmap(want, 8 * page));
	CHECK(shmat(id, want + 10, 0) == (void *)-1 && errno == EINVAL);
	char *r = shmat(id, want + 10, SHM_RND);
	CHECK(r == want);
	CHECK(strcmp(r, "parent") == 0);
	/* Over an existing mapping: EINVAL, unless SHM_REMAP. */
	CHECK(shmat(id, want, 0) == (void *)-1 && errno == EINVAL);
	CHECK(shmat(id, want, SHM_REMAP) == want);
	CHECK(shmat(id, NULL, SHM_REMAP) == (void *)-1 && errno == EINVAL);
	CHECK(nattch(id) == 2); /* the remap replaced the attachment at want */
	CHECK_OK(shmdt(want));
	CHECK(nattch(id) == 1);
	/* An id no segment can have (its index, the id modulo 32768, is past SHMMNI's 4096):
	 * not id + 1, which may be a segment of a program running beside this one. */
	CHECK(shmat(32767, NULL, 0) == (void *)-1 && errno == EINVAL);
	CHECK(shmat(-1, NULL, 0) == (void *)-1 && errno == EINVAL);

	/* Removal while attached: the key is free at once, the memory lives on until detach. */
	CHECK_OK(shmctl(id, IPC_RMID, NULL));
	CHECK_OK(shmctl(id, IPC_STAT, &ds));
	CHECK(ds.shm_perm.__key == IPC_PRIVATE);
	CHECK(ds.shm_perm.mode & 01000 /* SHM_DEST */);
	CHECK(strcmp(p, "parent") == 0);
	int id2 = shmget(key, page, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(id2 >= 0 && id2 != id);
	CHECK_OK(shmdt(p));
	CHECK_ERR(shmctl(id, IPC_STAT, &ds), EINVAL);
	CHECK_OK(shmctl(id2, IPC_RMID, NULL));
	CHECK_ERR(shmctl(id2, IPC_RMID, NULL), EINVAL);

	/* Unknown commands and bad buffers. */
	int id3 = shmget(IPC_PRIVATE, page, 0600);
	CHECK(id3 >= 0);
	CHECK_ERR(shmctl(id3, 12345, &ds), EINVAL);
	CHECK_ERR(shmctl(id3, IPC_STAT, (struct shmid_ds *)1), EFAULT);
	CHECK_OK(shmctl(id3, IPC_RMID, NULL));
	DONE();
}

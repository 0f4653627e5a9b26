/* POSIX shared memory on /dev/shm (shm_open and mmap): sized with ftruncate, shared between
 * processes, unlinked while mapped, O_EXCL and permission errors, and POSIX semaphores
 * (sem_open's named semaphores live there too) working across fork. */
#include "check.h"
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	char name[64], sname[64];
	snprintf(name, sizeof name, "/palisade-shm-%d", getpid());
	snprintf(sname, sizeof sname, "/palisade-sem-%d", getpid());
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_ERR(shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
	CHECK_OK(ftruncate(fd, 8192));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192 && (st.st_mode & 0777) == 0600);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);

	/* Another process opens it by name and writes; we see it. */
	pid_t c = fork();
	if (c == 0) {
		int f2 = shm_open(name, O_RDWR, 0);
		char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
		if (q == MAP_FAILED)
			_exit(1);
		strcpy(q + 4096, "from child");
		_exit(0);
	}
	int s;
	CHECK(waitpid(c, &s, 0) == c && WIFEXITED(s) && WEXITSTATUS(s) == 0);
	CHECK(strcmp(p + 4096, "from child") == 0);
	/* read() sees the same bytes as the mapping. */
	char buf[16] = {0};
	CHECK(pread(fd, buf, 10, 4096) == 10 && memcmp(buf, "from child", 10) == 0);

	/* Unlinked: the name is gone, the memory stays while mapped. */
	CHECK_OK(shm_unlink(name));
	CHECK_ERR(shm_open(name, O_RDWR, 0), ENOENT);
	CHECK_ERR(shm_unlink(name), ENOENT);
	CHECK(strcmp(p + 4096, "from child") == 0);
	/* Past the end of the object (but inside a new mapping): SIGBUS. */
	CHECK_OK(ftruncate(fd, 4096));
	c = fork();
	if (c == 0) {
		char *r = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		volatile char x = r[4096];
		(void)x;
		_exit(0);
	}
	CHECK(waitpid(c, &s, 0) == c && WIFSIGNALED(s) && WTERMSIG(s) == SIGBUS);

	/* A named POSIX semaphore between processes. */
	sem_t *sem = sem_open(sname, O_CREAT | O_EXCL, 0600, 0);
	CHECK(sem != SEM_FAILED);
	c = fork();
	if (c == 0) {
		sem_t *s2 = sem_open(sname, 0);
		usleep(30000);
		_exit(s2 != SEM_FAILED && sem_post(s2) == 0 ? 0 : 1);
	}
	CHECK_OK(sem_wait(sem));
	CHECK(waitpid(c, &s, 0) == c && WIFEXITED(s) && WEXITSTATUS(s) == 0);
	CHECK_ERR(sem_trywait(sem), EAGAIN);
	CHECK_OK(sem_unlink(sname));
	CHECK_OK(sem_close(sem));
	DONE();
}

/* memfd file seals: F_GET_SEALS/F_ADD_SEALS, a memfd made without MFD_ALLOW_SEALING (sealed
 * against seals), SHRINK/GROW/WRITE/FUTURE_WRITE/EXEC/SEAL and what each refuses (write,
 * truncate, fallocate, shared writable mappings, chmod of exec bits), EBUSY while a writable
 * shared mapping exists, read-only descriptors, and tmpfs files (F_SEAL_SEAL from birth). */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

int main(void)
{
	int fd = memfd_create("seals", MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GET_SEALS) == 0);
	CHECK(write(fd, "hello", 5) == 5);

	/* Unknown seal bits. */
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);

	/* SHRINK: no truncating down; growing is fine. */
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SHRINK);
	CHECK_ERR(ftruncate(fd, 2), EPERM);
	CHECK_OK(ftruncate(fd, 8192));
	CHECK_OK(ftruncate(fd, 8192)); /* same size */

	/* GROW: no writes past the end, no truncating up, no fallocate beyond. */
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	CHECK_ERR(ftruncate(fd, 8193), EPERM);
	CHECK(pwrite(fd, "ab", 2, 8190) == 2);
	/* Written page by page: the part that stays inside is written, then EPERM. */
	CHECK(pwrite(fd, "abc", 3, 8190) == 2);
	CHECK(pwrite(fd, "ab", 2, 8191) == 1);
	CHECK_ERR(pwrite(fd, "a", 1, 8192), EPERM);
	CHECK_ERR(fallocate(fd, 0, 0, 16384), EPERM);
	CHECK_OK(fallocate(fd, 0, 0, 4096));
	CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW));

	/* WRITE: refused while a shared writable mapping exists. */
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW));
	/* So is a shared read-only one of a writable descriptor (mprotect could make it
	 * writable); a private writable mapping is no obstacle. */
	CHECK_OK(munmap(m, 8192));
	char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(r != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	CHECK_OK(munmap(r, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	/* Once sealed, shared mappings are read-only for good. */
	r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(r != MAP_FAILED);
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EPERM);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	CHECK_ERR(mprotect(r, 4096, PROT_READ | PROT_WRITE), EACCES);
	p[0] = 'P'; /* private copy: allowed */
	CHECK(r[0] == 'h');
	char *p2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p2 != MAP_FAILED);
	CHECK_OK(ftruncate(fd, 8192)); /* same size is not a change */
	char buf[8];
	CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0);

	/* SEAL: no more seals. */
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), EPERM);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0), EPERM);
	CHECK(fcntl(fd, F_GET_SEALS) ==
	      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));

	/* Seals belong to the file: a reopen through /proc sees them. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	CHECK(fcntl(ro, F_GET_SEALS) == fcntl(fd, F_GET_SEALS));
	close(ro);

	/* Adding seals needs a writable descriptor. */
	int fd2 = memfd_create("ro", MFD_ALLOW_SEALING);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd2);
	ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	CHECK_ERR(fcntl(ro, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	CHECK(fcntl(ro, F_GET_SEALS) == 0);

	/* FUTURE_WRITE: existing shared writable mappings keep working, new ones and write()
	 * are refused. */
	char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	CHECK_OK(ftruncate(fd2, 4096));
	CHECK(w != MAP_FAILED);
	char *before = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	CHECK(before != MAP_FAILED);
	CHECK_OK(fcntl(fd2, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	CHECK_OK(mprotect(before, 4096, PROT_READ | PROT_WRITE)); /* made before the seal */
	char *rw = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	CHECK(rw != MAP_FAILED);
	w[0] = 'W';
	CHECK(pread(fd2, buf, 1, 0) == 1 && buf[0] == 'W');
	CHECK_ERR(write(fd2, "x", 1), EPERM);
	CHECK_ERR(mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd2, 0), EPERM);
	CHECK_ERR(mprotect(rw, 4096, PROT_READ | PROT_WRITE), EACCES);
	CHECK(fcntl(fd2, F_GET_SEALS) == F_SEAL_FUTURE_WRITE);
	/* Forked children's shared writable mappings were made before: fine. */
	pid_t c = fork();
	if (c == 0) {
		w[1] = 'C';
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(pread(fd2, buf, 2, 0) == 2 && buf[1] == 'C');
	close(ro);

	/* Without MFD_ALLOW_SEALING the file is sealed against seals. */
	int plain = memfd_create("plain", 0);
	CHECK(fcntl(plain, F_GET_SEALS) == F_SEAL_SEAL);
	CHECK_ERR(fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE), EPERM);

	/* EXEC: mode's exec bits frozen; MFD_NOEXEC_SEAL gives 0666 with the seal. */
	int ex = memfd_create("ex", MFD_ALLOW_SEALING);
	struct stat sb;
	CHECK_OK(fstat(ex, &sb));
	CHECK((sb.st_mode & 0777) == 0777);
	CHECK_OK(fcntl(ex, F_ADD_SEALS, F_SEAL_EXEC));
	/* ...and an executable file becomes W^X: sealed against writes and resizing too. */
	CHECK(fcntl(ex, F_GET_SEALS) == (F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW |
					 F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	CHECK_ERR(write(ex, "x", 1), EPERM);
	CHECK_ERR(fchmod(ex, 0666), EPERM);
	CHECK_ERR(fchmod(ex, 0766), EPERM);
	CHECK_OK(fchmod(ex, 0755)); /* the exec bits stay as they were */
	int nx = memfd_create("nx", MFD_NOEXEC_SEAL);
	CHECK_OK(fstat(nx, &sb));
	CHECK((sb.st_mode & 0777) == 0666);
	CHECK(fcntl(nx, F_GET_SEALS) == F_SEAL_EXEC);
	CHECK_ERR(fchmod(nx, 0766), EPERM);

	/* Other files: tmpfs files carry F_SEAL_SEAL, others have no seals at all. */
	char shm[64];
	snprintf(shm, sizeof shm, "/dev/shm/palisade-seal-%d", getpid());
	int sf = open(shm, O_CREAT | O_RDWR, 0600);
	CHECK(sf >= 0);
	unlink(shm);
	CHECK(fcntl(sf, F_GET_SEALS) == F_SEAL_SEAL);
	CHECK_ERR(fcntl(sf, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	int pp[2];
	CHECK_OK(pipe(pp));
	CHECK_ERR(fcntl(pp[0], F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(pp[1], F_ADD_SEALS, F_SEAL_GROW), EINVAL);
	DONE();
}

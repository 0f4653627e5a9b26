/* process_vm_readv and process_vm_writev: copying between our iovecs and another process's
 * memory in order; a fault on either side ends the copy (the bytes so far, or EFAULT if none);
 * a read-only remote page cannot be written; EINVAL for flags or too many iovecs, ESRCH for no
 * such process, EPERM for another user's process without CAP_SYS_PTRACE. */
#include "check.h"
#include <sys/mman.h>
#include <sys/uio.h>

static char shared_buf[64] = "original contents of the child";

int main(void)
{
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED && hole != MAP_FAILED);
	CHECK_OK(munmap(hole, 4096));
	int ready[2], done[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(done));
	pid_t c = fork();
	if (c == 0) {
		strcpy(shared_buf, "the child's own data");
		write(ready[1], "r", 1);
		char b;
		read(done[0], &b, 1);
		/* The parent wrote "PARENT" over the start. */
		_exit(strcmp(shared_buf, "PARENTild's own data") == 0 ? 0 : 3);
	}
	char b;
	CHECK(read(ready[0], &b, 1) == 1);

	/* Read, scattered over two local buffers. */
	char l1[4], l2[32] = {0};
	struct iovec local[2] = {{l1, sizeof l1}, {l2, sizeof l2}};
	struct iovec remote[1] = {{shared_buf, 20}};
	CHECK(process_vm_readv(c, local, 2, remote, 1, 0) == 20);
	CHECK(memcmp(l1, "the ", 4) == 0 && strcmp(l2, "child's own data") == 0);
	/* Our own memory still has the original. */
	CHECK(strcmp(shared_buf, "original contents of the child") == 0);

	/* Partial: the second remote piece is not mapped. */
	struct iovec r2[2] = {{shared_buf, 4}, {hole, 10}};
	CHECK(process_vm_readv(c, local, 2, r2, 2, 0) == 4);
	CHECK_ERR(process_vm_readv(c, local, 2, r2 + 1, 1, 0), EFAULT);
	/* A local fault with nothing copied. */
	struct iovec bad_local = {hole, 8};
	CHECK_ERR(process_vm_readv(c, &bad_local, 1, remote, 1, 0), EFAULT);
	/* Nothing to copy. */
	struct iovec empty = {l1, 0};
	CHECK(process_vm_readv(c, &empty, 1, remote, 1, 0) == 0);

	/* Write. */
	char w[] = "PARENT";
	struct iovec wl = {w, 6};
	struct iovec wr = {shared_buf, 6};
	CHECK(process_vm_writev(c, &wl, 1, &wr, 1, 0) == 6);
	/* Not into a read-only page. */
	struct iovec rr = {ro, 6};
	CHECK_ERR(process_vm_writev(c, &wl, 1, &rr, 1, 0), EFAULT);

	CHECK_ERR(process_vm_readv(c, local, 2, remote, 1, 1), EINVAL);
	CHECK_ERR(process_vm_readv(c, local, 1025, remote, 1, 0), EINVAL);
	CHECK_ERR(process_vm_readv(999999, local, 2, remote, 1, 0), ESRCH);

	/* Another user's process. */
	pid_t u = fork();
	if (u == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		char x[8];
		struct iovec xl = {x, 8}, xr = {shared_buf, 8};
		if (process_vm_readv(c, &xl, 1, &xr, 1, 0) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	int st;
	CHECK(waitpid(u, &st, 0) == u && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	CHECK(write(done[1], "d", 1) == 1);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

/* splice between files and pipes (offsets by pointer and by the file's own), tee between
 * pipes without consuming, vmsplice both ways, and the errors. */
#include "check.h"
#include <sys/uio.h>

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/palisade-splice-%d", getpid());
	int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(f >= 0);
	CHECK(write(f, "0123456789abcdef", 16) == 16);
	int p[2], q[2];
	CHECK_OK(pipe(p));
	CHECK_OK(pipe(q));

	/* File to pipe with an offset pointer: the file offset stays. */
	loff_t off = 4;
	CHECK(splice(f, &off, p[1], NULL, 6, 0) == 6 && off == 10);
	CHECK(lseek(f, 0, SEEK_CUR) == 16);
	/* tee copies without consuming. */
	CHECK(tee(p[0], q[1], 100, 0) == 6);
	char buf[64] = { 0 };
	CHECK(read(q[0], buf, sizeof buf) == 6 && memcmp(buf, "456789", 6) == 0);
	/* Pipe to file at its own offset. */
	CHECK(lseek(f, 0, SEEK_SET) == 0);
	CHECK(splice(p[0], NULL, f, NULL, 100, 0) == 6);
	CHECK(lseek(f, 0, SEEK_CUR) == 6);
	CHECK(pread(f, buf, 16, 0) == 16 && memcmp(buf, "456789", 6) == 0);
	/* Pipe to pipe. */
	CHECK(write(p[1], "xyz", 3) == 3);
	CHECK(splice(p[0], NULL, q[1], NULL, 2, 0) == 2);
	CHECK(read(q[0], buf, sizeof buf) == 2 && memcmp(buf, "xy", 2) == 0);
	CHECK(read(p[0], buf, sizeof buf) == 1 && buf[0] == 'z');
	/* Empty pipe, non-blocking: EAGAIN; no writers: 0. */
	CHECK_ERR(splice(p[0], NULL, f, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_ERR(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	/* vmsplice: memory into a pipe, and out of one. */
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	CHECK(vmsplice(p[1], iov, 2, 0) == 4);
	char out[4];
	struct iovec oi = { out, 4 };
	CHECK(vmsplice(p[0], &oi, 1, 0) == 4 && memcmp(out, "abcd", 4) == 0);
	/* Errors: no pipe at all, offsets on pipes, the same pipe, bad flags. */
	int g = open(path, O_RDONLY);
	CHECK_ERR(splice(g, NULL, f, NULL, 4, 0), EINVAL);
	off = 0;
	CHECK_ERR(splice(p[0], &off, f, NULL, 4, 0), ESPIPE);
	CHECK_ERR(splice(p[0], NULL, p[1], NULL, 4, 0), EINVAL);
	CHECK_ERR(tee(p[0], f, 4, 0), EINVAL);
	CHECK_ERR(splice(f, NULL, p[1], NULL, 4, 0x100), EINVAL);
	CHECK_ERR(vmsplice(f, iov, 1, 0), EBADF);
	close(p[1]);
	CHECK(splice(p[0], NULL, f, NULL, 10, 0) == 0);
	close(g);
	close(f);
	unlink(path);
	return failures != 0;
}

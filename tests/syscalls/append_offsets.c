/* Offsets and O_APPEND: every write of an O_APPEND description lands at the end (pwrite
 * included, which leaves the offset alone), lseek still moves it for reads, F_SETFL toggles
 * append on the shared description, dup and fork share the offset, a reopen does not, and
 * pwritev2's RWF_APPEND appends for one call. */
#include "check.h"
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif

static off_t size_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

int main(void)
{
	scratch_init("append");
	CHECK_OK(put_text(S("f"), "0123456789"));
	int fd = open(S("f"), O_RDWR | O_APPEND);
	CHECK(fd >= 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 0); /* opening does not move to the end */
	char buf[64];
	CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "012", 3) == 0);
	CHECK(write(fd, "ab", 2) == 2);
	CHECK(lseek(fd, 0, SEEK_CUR) == 12); /* after the write: the new end */
	CHECK(size_of(fd) == 12);

	/* pwrite on O_APPEND appends too (Linux's documented bug), offset untouched. */
	CHECK(lseek(fd, 4, SEEK_SET) == 4);
	CHECK(pwrite(fd, "PW", 2, 0) == 2);
	CHECK(lseek(fd, 0, SEEK_CUR) == 4);
	CHECK(pread(fd, buf, 14, 0) == 14 && memcmp(buf, "0123456789abPW", 14) == 0);

	/* writev is one append. */
	struct iovec iov[2] = {{"x", 1}, {"yz", 2}};
	CHECK(writev(fd, iov, 2) == 3);
	CHECK(size_of(fd) == 17);
	CHECK(pread(fd, buf, 3, 14) == 3 && memcmp(buf, "xyz", 3) == 0);

	/* Truncating: the next append goes to the new end. */
	CHECK_OK(ftruncate(fd, 5));
	CHECK(write(fd, "T", 1) == 1);
	CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "01234T", 6) == 0);

	/* F_SETFL on a dup: one description, so both lose append. */
	int d = dup(fd);
	CHECK_OK(fcntl(d, F_SETFL, O_RDWR)); /* clears O_APPEND */
	CHECK((fcntl(fd, F_GETFL) & O_APPEND) == 0);
	CHECK(lseek(fd, 1, SEEK_SET) == 1);
	CHECK(write(fd, "w", 1) == 1);
	CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "0w234T", 6) == 0);
	CHECK(lseek(d, 0, SEEK_CUR) == 2); /* the dup shares the offset */
	CHECK(pwrite(fd, "P", 1, 0) == 1); /* no append: pwrite at its offset */
	CHECK(pread(fd, buf, 2, 0) == 2 && memcmp(buf, "Pw", 2) == 0);
	CHECK_OK(fcntl(d, F_SETFL, O_APPEND));
	CHECK(fcntl(fd, F_GETFL) & O_APPEND);
	close(d);

	/* pwritev2 RWF_APPEND on a plain descriptor: appends at the end; with an explicit offset
	 * the file offset stays, with -1 it moves to the new end. */
	int plain = open(S("f"), O_RDWR);
	CHECK(plain >= 0);
	struct iovec one = {"A", 1};
	CHECK(pwritev2(plain, &one, 1, 0, RWF_APPEND) == 1);
	CHECK(size_of(plain) == 7);
	CHECK(lseek(plain, 0, SEEK_CUR) == 0);
	CHECK(pwritev2(plain, &one, 1, -1, RWF_APPEND) == 1);
	CHECK(lseek(plain, 0, SEEK_CUR) == 8);
	CHECK(pread(plain, buf, 8, 0) == 8 && memcmp(buf, "Pw234TAA", 8) == 0);
	CHECK_ERR(pwritev2(plain, &one, 1, 0, 0x80000000), EOPNOTSUPP);
	/* A reopen has its own offset. */
	off_t was = lseek(fd, 0, SEEK_CUR);
	CHECK(lseek(plain, was + 3, SEEK_SET) == was + 3);
	CHECK(lseek(fd, 0, SEEK_CUR) == was);
	close(plain);

	/* fork: the child's reads move the parent's offset. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	pid_t c = fork();
	if (c == 0) {
		char b[3];
		_exit(read(fd, b, 3) == 3 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 3);
	/* ...and its appends land after the parent's. */
	c = fork();
	if (c == 0)
		_exit(write(fd, "C", 1) == 1 ? 0 : 1);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(write(fd, "D", 1) == 1);
	CHECK(pread(fd, buf, 10, 0) == 10 && memcmp(buf, "Pw234TAACD", 10) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 10);

	/* Seeking: SEEK_END from the append description, negative results EINVAL. */
	CHECK(lseek(fd, -2, SEEK_END) == 8);
	CHECK_ERR(lseek(fd, -20, SEEK_END), EINVAL);
	CHECK(lseek(fd, 0, SEEK_CUR) == 8);
	close(fd);
	scratch_cleanup();
	DONE();
}

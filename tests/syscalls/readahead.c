/* readahead(2): 0 for a regular file open for reading (any offset and count), EBADF for a
 * bad, write-only or O_PATH descriptor, EINVAL for what has no page cache to fill (a
 * directory, a pipe, a socket, a character device). */
#include "check.h"
#include <sys/socket.h>

static long ra(int fd, long off, long count)
{
	return syscall(SYS_readahead, fd, off, count);
}

int main(void)
{
	scratch_init("readahead");
	int fd = open(S("f"), O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello", 5) == 5);
	CHECK(ra(fd, 0, 4096) == 0);
	CHECK(ra(fd, 1 << 20, 1 << 20) == 0);
	CHECK(ra(fd, 0, 0) == 0);
	int ro = open(S("f"), O_RDONLY);
	CHECK(ro >= 0 && ra(ro, 0, 100) == 0);
	int wo = open(S("f"), O_WRONLY);
	CHECK_ERR(ra(wo, 0, 100), EBADF);
	int path = open(S("f"), O_PATH);
	CHECK_ERR(ra(path, 0, 100), EBADF);
	CHECK_ERR(ra(-1, 0, 100), EBADF);
	CHECK_ERR(ra(999, 0, 100), EBADF);
	int dir = open(S(""), O_RDONLY | O_DIRECTORY);
	CHECK_ERR(ra(dir, 0, 100), EINVAL);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(ra(p[0], 0, 100), EINVAL);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(ra(s, 0, 100), EINVAL);
	int null = open("/dev/null", O_RDONLY);
	CHECK_ERR(ra(null, 0, 100), EINVAL);
	/* The file on the read-only root too. */
	int etc = open("/etc/passwd", O_RDONLY);
	CHECK(etc >= 0 && ra(etc, 0, 1 << 16) == 0);
	scratch_cleanup();
	DONE();
}

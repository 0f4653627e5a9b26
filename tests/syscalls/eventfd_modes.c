/* eventfd: counter semantics, EFD_SEMAPHORE, the 0xfffffffffffffffe ceiling (write blocks or
 * EAGAIN), poll readiness, and the errors. */
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

int main(void)
{
	CHECK_ERR(eventfd(0, 12345), EINVAL);
	int fd = eventfd(3, EFD_NONBLOCK);
	CHECK(fd >= 0);
	uint64_t v = 4;
	CHECK(write(fd, &v, 8) == 8);
	CHECK(read(fd, &v, 8) == 8 && v == 7);
	CHECK_ERR(read(fd, &v, 8), EAGAIN);
	CHECK_ERR(read(fd, &v, 7), EINVAL);
	CHECK_ERR(write(fd, &v, 7), EINVAL);
	v = UINT64_MAX;
	CHECK_ERR(write(fd, &v, 8), EINVAL);

	/* The ceiling: at 0xfffffffffffffffe no more may be added. */
	v = UINT64_MAX - 1;
	CHECK(write(fd, &v, 8) == 8);
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
	v = 1;
	CHECK_ERR(write(fd, &v, 8), EAGAIN);
	CHECK(read(fd, &v, 8) == 8 && v == UINT64_MAX - 1);
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT);

	/* Semaphore mode: each read takes one. */
	int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(read(s, &v, 8) == 8 && v == 1);
	CHECK(read(s, &v, 8) == 8 && v == 1);
	CHECK_ERR(read(s, &v, 8), EAGAIN);

	/* A blocking read waits for a write from another process. */
	int bl = eventfd(0, 0);
	pid_t c = fork();
	if (c == 0) {
		usleep(30000);
		uint64_t one = 5;
		_exit(write(bl, &one, 8) == 8 ? 0 : 1);
	}
	CHECK(read(bl, &v, 8) == 8 && v == 5);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
	/* A write that would overflow blocks until a read makes room. */
	v = UINT64_MAX - 1;
	CHECK(write(bl, &v, 8) == 8);
	c = fork();
	if (c == 0) {
		usleep(30000);
		uint64_t x;
		_exit(read(bl, &x, 8) == 8 ? 0 : 1);
	}
	v = 10;
	CHECK(write(bl, &v, 8) == 8);
	CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
	CHECK(read(bl, &v, 8) == 8 && v == 10);
	DONE();
}

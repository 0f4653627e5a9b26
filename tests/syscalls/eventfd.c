#include "check.h"
#include <poll.h>
#include <sys/eventfd.h>

int main(void)
{
	int e = eventfd(3, EFD_NONBLOCK);
	uint64_t v;
	CHECK(read(e, &v, 8) == 8 && v == 3);
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	v = 5;
	CHECK(write(e, &v, 8) == 8);
	v = 2;
	CHECK(write(e, &v, 8) == 8);
	CHECK(read(e, &v, 8) == 8 && v == 7);
	CHECK_ERR(read(e, &v, 4), EINVAL);
	v = UINT64_MAX;
	CHECK_ERR(write(e, &v, 8), EINVAL);
	v = UINT64_MAX - 1;
	CHECK(write(e, &v, 8) == 8);
	v = 1;
	CHECK_ERR(write(e, &v, 8), EAGAIN);
	struct pollfd p = { e, POLLIN | POLLOUT, 0 };
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
	/* Semaphore mode: reads count down by one. */
	int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(fcntl(s, F_GETFD) == FD_CLOEXEC);
	CHECK(read(s, &v, 8) == 8 && v == 1);
	CHECK(read(s, &v, 8) == 8 && v == 1);
	CHECK_ERR(read(s, &v, 8), EAGAIN);
	CHECK_ERR(eventfd(0, 0x12345), EINVAL);
	DONE();
}

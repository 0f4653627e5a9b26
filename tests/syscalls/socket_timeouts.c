/* SO_RCVTIMEO/SO_SNDTIMEO on unix sockets: recv, read, accept and send give up with EAGAIN
 * after the timeout; a zero timeout waits forever; bad microseconds are EDOM; getsockopt reads
 * them back. */
#include "check.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct timeval tv = {0, 50000}, got;
	socklen_t len = sizeof got;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	/* Linux keeps it in clock ticks: 50 ms may read back rounded up to the next tick. */
	CHECK(len == sizeof got && got.tv_sec == 0 && got.tv_usec >= 50000 && got.tv_usec < 60000);
	struct timespec a;
	char buf[8];
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(recv(sv[0], buf, sizeof buf, 0), EAGAIN);
	CHECK(ms_since(&a) >= 45);
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(read(sv[0], buf, sizeof buf), EAGAIN);
	CHECK(ms_since(&a) >= 45);
	/* Data that is there comes at once. */
	CHECK(write(sv[1], "hi", 2) == 2);
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 2);

	/* Bad values. */
	tv.tv_usec = 1000000;
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 4), EINVAL);

	/* Send: fill the socket, then a blocking send gives up. */
	tv.tv_sec = 0;
	tv.tv_usec = 50000;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	static char big[1 << 16];
	int full = 0;
	for (int i = 0; i < 64 && !full; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		ssize_t n = send(sv[1], big, sizeof big, 0);
		if (n < 0) {
			CHECK(errno == EAGAIN);
			CHECK(ms_since(&a) >= 45);
			full = 1;
		}
	}
	CHECK(full);

	/* accept with a timeout. */
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un s = {.sun_family = AF_UNIX};
	snprintf(s.sun_path + 1, sizeof s.sun_path - 1, "timeouts-%d", getpid());
	socklen_t slen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(s.sun_path + 1);
	CHECK_OK(bind(srv, (struct sockaddr *)&s, slen));
	CHECK_OK(listen(srv, 1));
	CHECK_OK(setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(accept(srv, NULL, NULL), EAGAIN);
	CHECK(ms_since(&a) >= 45);

	/* Zero: no timeout (reads back as zero). */
	tv.tv_usec = 0;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	len = sizeof got;
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	CHECK(got.tv_sec == 0 && got.tv_usec == 0);
	DONE();
}

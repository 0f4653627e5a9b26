/* A non-blocking TCP sender whose peer does not read: writes fill the buffers and then give
 * EAGAIN, poll stops saying POLLOUT, SIOCOUTQ counts what waits; once the peer reads, POLLOUT
 * comes back and everything written arrives. A blocking sender with SO_SNDTIMEO gives up
 * with EAGAIN after its timeout. */
#include "check.h"
#include "inet.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <linux/sockios.h>
#include <time.h>

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(fcntl(c, F_SETFL, O_NONBLOCK) == 0);
	static char chunk[65536];
	memset(chunk, 'q', sizeof chunk);
	size_t total = 0;
	for (int i = 0; i < 100000; i++) {
		ssize_t n = write(c, chunk, sizeof chunk);
		if (n < 0) {
			CHECK(errno == EAGAIN);
			/* The stack may still be moving bytes to the peer: retry a few times. */
			if (!(readiness(c, POLLOUT, 100) & POLLOUT))
				break;
			continue;
		}
		total += n;
	}
	CHECK(total > 0);
	CHECK(!(readiness(c, POLLOUT, 0) & POLLOUT));
	int q = 0;
	CHECK(ioctl(c, SIOCOUTQ, &q) == 0 && q > 0);
	/* Blocking writes with a send timeout: some may still find room (and return a count),
	 * until one finds none for the whole timeout and gives EAGAIN. */
	CHECK(fcntl(c, F_SETFL, 0) == 0);
	struct timeval tv = { 0, 100000 };
	CHECK(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
	long ms = -1;
	for (int i = 0; i < 1000; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ssize_t n = write(c, chunk, sizeof chunk);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (n > 0) {
			total += n;
			continue;
		}
		CHECK(n < 0 && errno == EAGAIN);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		break;
	}
	CHECK(ms >= 90 && ms < 2000);
	/* Drain: everything arrives, and the sender may write again. */
	size_t got = 0;
	static char buf[1 << 16];
	while (got < total) {
		ssize_t n = read(s, buf, sizeof buf);
		if (n <= 0)
			break;
		got += n;
	}
	CHECK(got == total);
	CHECK(readiness(c, POLLOUT, 2000) & POLLOUT);
	DONE();
}

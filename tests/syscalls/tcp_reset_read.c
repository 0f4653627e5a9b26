/* A peer that closes with our data unread resets the connection: our next read gives
 * ECONNRESET (once; then end-of-file), poll says POLLERR|POLLHUP, SO_ERROR is clear after
 * the read reported it, and a write after the reset is EPIPE. Data the peer sent before the
 * reset is read first. */
#include "check.h"
#include "inet.h"
#include <signal.h>

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(write(s, "first", 5) == 5);
	CHECK(write(c, "unread", 6) == 6);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	usleep(20000);
	close(s); /* with "unread" still queued: RST instead of FIN */
	int r = 0;
	for (int i = 0; i < 200 && !((r = readiness(c, POLLIN, 10)) & POLLERR); i++)
		;
	CHECK((r & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
	char b[16];
	CHECK(read(c, b, sizeof b) == 5 && memcmp(b, "first", 5) == 0);
	CHECK_ERR(read(c, b, sizeof b), ECONNRESET);
	int e = -1;
	socklen_t n = sizeof e;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e == 0);
	CHECK(read(c, b, sizeof b) == 0);
	CHECK_ERR(write(c, "x", 1), EPIPE);
	DONE();
}

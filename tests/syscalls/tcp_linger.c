/* SO_LINGER: read back as set; a zero linger time makes close() reset the connection, so the
 * peer reads what had arrived, then ECONNRESET once, then end-of-file, its SO_ERROR is clear after,
 * and poll shows POLLHUP|POLLERR; without it the peer reads the data and then end-of-file. */
#include "check.h"
#include "inet.h"
#include <signal.h>

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	struct linger lg = { -1, -1 };
	socklen_t n = sizeof lg;
	CHECK(getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &n) == 0 && n == sizeof lg && lg.l_onoff == 0 && lg.l_linger == 0);
	lg = (struct linger){ 1, 0 };
	CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
	lg = (struct linger){ -1, -1 };
	CHECK(getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &n) == 0 && lg.l_onoff == 1 && lg.l_linger == 0);
	CHECK_ERR(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg - 1), EINVAL);
	/* Any non-zero l_onoff counts as on. */
	lg = (struct linger){ 42, 0 };
	CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
	CHECK(getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &n) == 0 && lg.l_onoff == 1);

	CHECK(write(c, "data", 4) == 4);
	close(c);
	char buf[16];
	int r = readiness(s, POLLIN, 2000);
	CHECK((r & POLLHUP) && (r & POLLERR));
	/* What had arrived before the reset is still read, then the reset is reported once. */
	CHECK(read(s, buf, sizeof buf) == 4);
	CHECK_ERR(read(s, buf, sizeof buf), ECONNRESET);
	CHECK(read(s, buf, sizeof buf) == 0);
	int e = -1;
	n = sizeof e;
	CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e == 0);
	/* Writing to a reset connection: EPIPE (SIGPIPE ignored here). */
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(s, "x", 1), EPIPE);
	close(s);

	/* An orderly close: the data, then end-of-file. */
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(write(c, "data", 4) == 4);
	close(c);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	CHECK(read(s, buf, sizeof buf) == 4);
	CHECK(read(s, buf, sizeof buf) == 0);
	/* A linger with a time: close waits for the data to go, then returns. */
	CHECK(tcp_pair(&c, &s) == 0);
	lg = (struct linger){ 1, 5 };
	CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
	CHECK(write(c, "bye", 3) == 3);
	CHECK(close(c) == 0);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	CHECK(read(s, buf, sizeof buf) == 3 && read(s, buf, sizeof buf) == 0);
	DONE();
}

/* select() on sockets: a listener is readable when a connection waits, a new connection is
 * writable but not readable, readable once data comes and at the peer's close (read then
 * gives 0); a UDP socket is writable at once; a closed descriptor in the set is EBADF. */
#include "check.h"
#include "inet.h"
#include <sys/select.h>

static int ready(int fd, int *r, int *w)
{
	fd_set rs, ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(fd, &rs);
	FD_SET(fd, &ws);
	struct timeval tv = { 1, 0 };
	int n = select(fd + 1, &rs, &ws, NULL, &tv);
	*r = FD_ISSET(fd, &rs);
	*w = FD_ISSET(fd, &ws);
	return n;
}

static int readable(int fd, int ms)
{
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return select(fd + 1, &rs, NULL, NULL, &tv);
}

int main(void)
{
	struct sockaddr_in a;
	int l = tcp_listener(&a, 4);
	CHECK(readable(l, 0) == 0);
	int c = tcp_connect(&a);
	CHECK(c >= 0 && readable(l, 2000) == 1);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0 && readable(l, 0) == 0);
	int r, w;
	CHECK(ready(c, &r, &w) == 1 && !r && w);
	CHECK(write(s, "hi", 2) == 2);
	CHECK(readable(c, 2000) == 1);
	char b[4];
	CHECK(read(c, b, sizeof b) == 2);
	close(s);
	CHECK(readable(c, 2000) == 1 && read(c, b, sizeof b) == 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(ready(u, &r, &w) == 1 && !r && w);
	int gone = socket(AF_INET, SOCK_STREAM, 0);
	close(gone);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(gone, &rs);
	struct timeval tv = { 0, 0 };
	CHECK_ERR(select(gone + 1, &rs, NULL, NULL, &tv), EBADF);
	DONE();
}

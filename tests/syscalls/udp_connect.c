/* Connected UDP: connect from an unbound socket picks a port and the route's source address
 * (getsockname shows 127.0.0.1); the socket then takes datagrams only from its peer;
 * connecting again changes the peer; AF_UNSPEC dissolves the association (getpeername is
 * ENOTCONN, a port the kernel chose is given back, an address bound stays); sendto with an
 * address works on a connected socket. */
#include "check.h"
#include "inet.h"

int main(void)
{
	struct sockaddr_in pa, qa, me, got;
	int p = udp_bound(&pa), q = udp_bound(&qa);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t n = sizeof me;
	CHECK(connect(c, (struct sockaddr *)&pa, sizeof pa) == 0);
	CHECK(getsockname(c, (struct sockaddr *)&me, &n) == 0 && me.sin_port != 0 && me.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	n = sizeof got;
	CHECK(getpeername(c, (struct sockaddr *)&got, &n) == 0 && got.sin_port == pa.sin_port);
	/* Only the peer gets through. */
	CHECK(sendto(q, "q", 1, 0, (struct sockaddr *)&me, sizeof me) == 1);
	CHECK(sendto(p, "p", 1, 0, (struct sockaddr *)&me, sizeof me) == 1);
	char b[4];
	CHECK(readiness(c, POLLIN, 2000) & POLLIN);
	CHECK(recv(c, b, sizeof b, 0) == 1 && b[0] == 'p');
	CHECK_ERR(recv(c, b, sizeof b, MSG_DONTWAIT), EAGAIN);
	/* send goes to the peer; sendto with another address goes there. */
	CHECK(send(c, "1", 1, 0) == 1);
	CHECK(sendto(c, "2", 1, 0, (struct sockaddr *)&qa, sizeof qa) == 1);
	CHECK(readiness(p, POLLIN, 2000) & POLLIN && recv(p, b, sizeof b, 0) == 1 && b[0] == '1');
	CHECK(readiness(q, POLLIN, 2000) & POLLIN && recv(q, b, sizeof b, 0) == 1 && b[0] == '2');
	/* A new peer. */
	CHECK(connect(c, (struct sockaddr *)&qa, sizeof qa) == 0);
	CHECK(sendto(q, "Q", 1, 0, (struct sockaddr *)&me, sizeof me) == 1);
	CHECK(readiness(c, POLLIN, 2000) & POLLIN && recv(c, b, sizeof b, 0) == 1 && b[0] == 'Q');
	/* Dissolved. */
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	CHECK(connect(c, &un, sizeof un) == 0);
	n = sizeof got;
	CHECK_ERR(getpeername(c, (struct sockaddr *)&got, &n), ENOTCONN);
	n = sizeof got;
	CHECK(getsockname(c, (struct sockaddr *)&got, &n) == 0 && got.sin_port == 0 && got.sin_addr.s_addr == 0);
	CHECK_ERR(send(c, "x", 1, 0), EDESTADDRREQ);
	/* A socket bound to an address keeps it; a port it let the kernel choose (bind to port
	 * 0) goes back all the same; a port it asked for stays. */
	CHECK(connect(p, (struct sockaddr *)&qa, sizeof qa) == 0 && connect(p, &un, sizeof un) == 0);
	n = sizeof got;
	CHECK(getsockname(p, (struct sockaddr *)&got, &n) == 0 && got.sin_port == 0 && got.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(r, (struct sockaddr *)&pa, sizeof pa) == 0);
	CHECK(connect(r, (struct sockaddr *)&qa, sizeof qa) == 0 && connect(r, &un, sizeof un) == 0);
	n = sizeof got;
	CHECK(getsockname(r, (struct sockaddr *)&got, &n) == 0 && got.sin_port == pa.sin_port);
	DONE();
}

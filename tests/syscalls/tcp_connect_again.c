/* connect on TCP sockets in other states: AF_UNSPEC on an unconnected socket is fine; a
 * refused connect leaves the socket able to connect again (to a listener now there), with
 * SO_ERROR clear; connecting a connected socket is EISCONN, with an IPv6 address to an IPv4
 * socket EAFNOSUPPORT; a short address EINVAL; a broadcast/multicast TCP destination
 * ENETUNREACH; AF_UNSPEC on a connection resets it and frees the socket to connect again. */
#include "check.h"
#include "inet.h"

int main(void)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	CHECK(connect(c, &un, sizeof un) == 0);
	/* A port nobody listens on: refused; the same socket then reaches a listener. */
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	struct sockaddr_in gone = a;
	int probe = tcp_listener(&gone, 1);
	close(probe);
	CHECK_ERR(connect(c, (struct sockaddr *)&gone, sizeof gone), ECONNREFUSED);
	int e = -1;
	socklen_t n = sizeof e;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e == 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
	struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = a.sin_port };
	int d = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect(d, (struct sockaddr *)&six, sizeof six), EAFNOSUPPORT);
	CHECK_ERR(connect(d, (struct sockaddr *)&a, sizeof a - 1), EINVAL);
	CHECK_ERR(connect(d, (struct sockaddr *)&a, 1), EINVAL);
	struct sockaddr_in mc = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = inet_addr("224.0.0.1") };
	CHECK_ERR(connect(d, (struct sockaddr *)&mc, sizeof mc), ENETUNREACH);
	/* The socket still works after all that. */
	CHECK(connect(d, (struct sockaddr *)&a, sizeof a) == 0);
	int s2 = accept(l, NULL, NULL);
	CHECK(s2 >= 0);
	/* AF_UNSPEC on a connection resets it: the peer reads ECONNRESET, and the socket can
	 * connect again. */
	CHECK(connect(d, &un, sizeof un) == 0);
	char b[4];
	CHECK(readiness(s2, POLLIN, 2000) & POLLIN);
	CHECK_ERR(read(s2, b, sizeof b), ECONNRESET);
	n = sizeof a;
	struct sockaddr_in peer;
	CHECK_ERR(getpeername(d, (struct sockaddr *)&peer, &n), ENOTCONN);
	CHECK(connect(d, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(accept(l, NULL, NULL) >= 0);
	DONE();
}

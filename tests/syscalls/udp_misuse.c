/* UDP errno: a datagram over 65507 bytes is EMSGSIZE (65507 itself goes), binding twice is
 * EINVAL, a port in use EADDRINUSE (SO_REUSEADDR on both lets it), send without an address
 * EDESTADDRREQ, port 0 as destination EINVAL, recv on an unbound socket waits (EAGAIN when
 * non-blocking), shutdown on an unconnected socket ENOTCONN, and a zero-length datagram
 * arrives as one. */
#include "check.h"
#include "inet.h"
#include <stdlib.h>

int main(void)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	CHECK(bind(u, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(u, (struct sockaddr *)&a, &n) == 0);
	CHECK_ERR(bind(u, (struct sockaddr *)&a, sizeof a), EINVAL);
	CHECK_ERR(bind(v, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	int r1 = socket(AF_INET, SOCK_DGRAM, 0), r2 = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	struct sockaddr_in shared = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	CHECK(setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	n = sizeof shared;
	CHECK(bind(r1, (struct sockaddr *)&shared, sizeof shared) == 0 && getsockname(r1, (struct sockaddr *)&shared, &n) == 0);
	CHECK(bind(r2, (struct sockaddr *)&shared, sizeof shared) == 0);

	char *big = calloc(1, 70000);
	CHECK_ERR(sendto(v, big, 65508, 0, (struct sockaddr *)&a, sizeof a), EMSGSIZE);
	CHECK(sendto(v, big, 65507, 0, (struct sockaddr *)&a, sizeof a) == 65507);
	CHECK(readiness(u, POLLIN, 2000) & POLLIN);
	CHECK(recv(u, big, 70000, 0) == 65507);
	CHECK_ERR(send(v, "x", 1, 0), EDESTADDRREQ);
	struct sockaddr_in zero = a;
	zero.sin_port = 0;
	CHECK_ERR(sendto(v, "x", 1, 0, (struct sockaddr *)&zero, sizeof zero), EINVAL);
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	char b[8];
	CHECK_ERR(recv(w, b, sizeof b, MSG_DONTWAIT), EAGAIN);
	CHECK_ERR(shutdown(w, SHUT_RDWR), ENOTCONN);
	/* Zero-length datagrams count, and so does their sender. */
	CHECK(sendto(v, "", 0, 0, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(readiness(u, POLLIN, 2000) & POLLIN);
	struct sockaddr_in from;
	n = sizeof from;
	CHECK(recvfrom(u, b, sizeof b, 0, (struct sockaddr *)&from, &n) == 0 && n == sizeof from && from.sin_port != 0);
	CHECK_ERR(recv(u, b, sizeof b, MSG_DONTWAIT), EAGAIN);
	DONE();
}

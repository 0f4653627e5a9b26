/* A connected UDP socket that sends to a port nobody listens on learns of it (the ICMP port
 * unreachable): the next recv or send fails once with ECONNREFUSED and poll shows POLLERR; an
 * unconnected socket is not told. Broadcast without SO_BROADCAST is EACCES. */
#include "check.h"
#include "inet.h"

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int v = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(v, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(v, (struct sockaddr *)&a, &n) == 0);
	close(v);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(connect(u, (struct sockaddr *)&a, sizeof a) == 0);
	char b[4];
	CHECK(send(u, "x", 1, 0) == 1);
	int r = readiness(u, POLLIN, 2000);
	CHECK(r & POLLERR);
	CHECK_ERR(recv(u, b, sizeof b, MSG_DONTWAIT), ECONNREFUSED);
	CHECK_ERR(recv(u, b, sizeof b, MSG_DONTWAIT), EAGAIN);
	CHECK(send(u, "x", 1, 0) == 1);
	CHECK(readiness(u, POLLIN, 2000) & POLLERR);
	CHECK_ERR(send(u, "x", 1, 0), ECONNREFUSED);
	CHECK(send(u, "x", 1, 0) == 1);
	CHECK(readiness(u, POLLIN, 2000) & POLLERR);
	int e = 0;
	n = sizeof e;
	CHECK(getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e == ECONNREFUSED);
	CHECK(getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &n) == 0 && e == 0);
	CHECK(!(readiness(u, POLLIN, 0) & POLLERR));

	/* Unconnected: nothing reported. */
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(w, "x", 1, 0, (struct sockaddr *)&a, sizeof a) == 1);
	usleep(50000);
	CHECK_ERR(recv(w, b, sizeof b, MSG_DONTWAIT), EAGAIN);
	CHECK(!(readiness(w, POLLIN, 0) & POLLERR));

	/* IPv6 likewise. */
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	n = sizeof a6;
	int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(bind(v6, (struct sockaddr *)&a6, sizeof a6) == 0 && getsockname(v6, (struct sockaddr *)&a6, &n) == 0);
	close(v6);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(connect(u6, (struct sockaddr *)&a6, sizeof a6) == 0);
	CHECK(send(u6, "x", 1, 0) == 1);
	CHECK(readiness(u6, POLLIN, 2000) & POLLERR);
	CHECK_ERR(recv(u6, b, sizeof b, 0), ECONNREFUSED);

	/* Broadcast needs SO_BROADCAST. */
	struct sockaddr_in bc = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_BROADCAST) };
	CHECK_ERR(sendto(w, "x", 1, 0, (struct sockaddr *)&bc, sizeof bc), EACCES);
	DONE();
}

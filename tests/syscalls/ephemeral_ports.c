/* Ports the kernel chooses: 64 connections from unbound sockets and 64 UDP binds to port 0
 * all get distinct ports inside ip_local_port_range, which /proc reads back as two numbers;
 * a port held by a TCP socket is still free for UDP. */
#include "check.h"
#include "inet.h"
#include <stdio.h>

int main(void)
{
	int lo = 0, hi = 0;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	CHECK(f && fscanf(f, "%d %d", &lo, &hi) == 2 && 0 < lo && lo < hi && hi < 65536);
	if (f)
		fclose(f);
	struct sockaddr_in a;
	int l = tcp_listener(&a, 128);
	int seen[65536] = { 0 };
	for (int i = 0; i < 64; i++) {
		int c = tcp_connect(&a);
		struct sockaddr_in me;
		socklen_t n = sizeof me;
		CHECK(c >= 0 && getsockname(c, (struct sockaddr *)&me, &n) == 0);
		int port = ntohs(me.sin_port);
		CHECK(port >= lo && port <= hi);
		CHECK(seen[port] == 0);
		seen[port] = 1;
	}
	int useen[65536] = { 0 };
	int uports[64];
	for (int i = 0; i < 64; i++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t n = sizeof b;
		CHECK(bind(u, (struct sockaddr *)&b, sizeof b) == 0 && getsockname(u, (struct sockaddr *)&b, &n) == 0);
		int port = ntohs(b.sin_port);
		CHECK(port >= lo && port <= hi && useen[port] == 0);
		useen[port] = 1;
		uports[i] = port;
	}
	/* TCP and UDP ports are separate spaces: a port UDP holds can be bound for TCP. Some of
	 * them may be TCP ports in use (our 64 connections, or other host sockets where the
	 * sandbox's sockets are host sockets), so take the first that TCP has free. */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int bound = -1;
	for (int i = 0; i < 64 && bound != 0; i++) {
		if (seen[uports[i]])
			continue;
		b.sin_port = htons(uports[i]);
		bound = bind(t, (struct sockaddr *)&b, sizeof b);
		CHECK(bound == 0 || errno == EADDRINUSE);
	}
	CHECK(bound == 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(bind(u, (struct sockaddr *)&b, sizeof b), EADDRINUSE);
	close(l);
	DONE();
}

/* IPv6 over ::1, and a dual-stack listener on :: taking an IPv4 connection, which it shows
 * as an IPv4-mapped address. */
#include "check.h"
#include "inet.h"

int main(void)
{
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t n = sizeof a;
	int off = 0, v = -1;
	CHECK(getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &n) == 0 && v == 0);
	CHECK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0);
	n = sizeof a;
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &n) == 0 && n == sizeof a && a.sin6_port != 0);
	CHECK(listen(l, 8) == 0);
	/* Over ::1. */
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 to = a;
	to.sin6_addr = in6addr_loopback;
	CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0);
	struct sockaddr_in6 peer;
	n = sizeof peer;
	int s = accept(l, (struct sockaddr *)&peer, &n);
	CHECK(s >= 0 && n == sizeof peer && IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr));
	CHECK(write(c, "six", 3) == 3);
	char b[8] = { 0 };
	CHECK(read(s, b, sizeof b) == 3 && memcmp(b, "six", 3) == 0);
	close(s);
	close(c);
	/* Over IPv4 to the same listener. */
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = a.sin6_port,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(connect(c4, (struct sockaddr *)&to4, sizeof to4) == 0);
	n = sizeof peer;
	s = accept(l, (struct sockaddr *)&peer, &n);
	CHECK(s >= 0);
	CHECK(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
	CHECK(memcmp(&peer.sin6_addr.s6_addr[12], &to4.sin_addr, 4) == 0);
	CHECK(write(s, "four", 4) == 4);
	CHECK(read(c4, b, sizeof b) == 4 && memcmp(b, "four", 4) == 0);
	/* An IPv4 socket takes no IPv6 address. */
	CHECK_ERR(connect(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr *)&to, sizeof to), EAFNOSUPPORT);
	/* A short sockaddr_in6. */
	CHECK_ERR(bind(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&to, 20), EINVAL);

	/* UDP over ::1. */
	int u1 = socket(AF_INET6, SOCK_DGRAM, 0), u2 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 ua = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	n = sizeof ua;
	CHECK(bind(u1, (struct sockaddr *)&ua, sizeof ua) == 0);
	CHECK(getsockname(u1, (struct sockaddr *)&ua, &n) == 0);
	CHECK(sendto(u2, "dgram6", 6, 0, (struct sockaddr *)&ua, sizeof ua) == 6);
	struct sockaddr_in6 from;
	n = sizeof from;
	CHECK(recvfrom(u1, b, sizeof b, 0, (struct sockaddr *)&from, &n) == 6);
	CHECK(n == sizeof from && from.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	DONE();
}

/* IPv6 sockets and IPv4: a V6ONLY listener on :: refuses IPv4 (ECONNREFUSED) while a
 * dual-stack one takes it; a dual-stack bind on a port an IPv4 socket holds is EADDRINUSE,
 * a V6ONLY bind there is fine; a UDP6 socket reaches an IPv4 one through a mapped address,
 * and sees the sender as mapped; IPv4-mapped addresses are refused with V6ONLY. */
#include "check.h"
#include "inet.h"

int main(void)
{
	int one = 1;
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t n = sizeof any6;
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
	CHECK(bind(l, (struct sockaddr *)&any6, sizeof any6) == 0 && listen(l, 4) == 0 &&
	      getsockname(l, (struct sockaddr *)&any6, &n) == 0);
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = any6.sin6_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&v4, sizeof v4), ECONNREFUSED);
	/* The same port is free for IPv4 alongside the V6ONLY listener. */
	int l4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_port = any6.sin6_port };
	CHECK(bind(l4, (struct sockaddr *)&any4, sizeof any4) == 0);
	/* A dual-stack socket cannot share it. */
	int d = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK_ERR(bind(d, (struct sockaddr *)&any6, sizeof any6), EADDRINUSE);
	close(d);

	/* Dual-stack listener: takes IPv4 and shows it mapped. */
	struct sockaddr_in6 dual = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int l2 = socket(AF_INET6, SOCK_STREAM, 0);
	n = sizeof dual;
	CHECK(bind(l2, (struct sockaddr *)&dual, sizeof dual) == 0 && listen(l2, 4) == 0 &&
	      getsockname(l2, (struct sockaddr *)&dual, &n) == 0);
	v4.sin_port = dual.sin6_port;
	int c2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c2, (struct sockaddr *)&v4, sizeof v4) == 0);
	struct sockaddr_in6 from;
	n = sizeof from;
	int s2 = accept(l2, (struct sockaddr *)&from, &n);
	CHECK(s2 >= 0 && IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));

	/* UDP6 to an IPv4 socket through a mapped address, and back. */
	int u4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	n = sizeof ua;
	CHECK(bind(u4, (struct sockaddr *)&ua, sizeof ua) == 0 && getsockname(u4, (struct sockaddr *)&ua, &n) == 0);
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = ua.sin_port };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(sendto(u6, "m", 1, 0, (struct sockaddr *)&mapped, sizeof mapped) == 1);
	struct sockaddr_in src;
	n = sizeof src;
	char b[4];
	CHECK(readiness(u4, POLLIN, 2000) & POLLIN);
	CHECK(recvfrom(u4, b, sizeof b, 0, (struct sockaddr *)&src, &n) == 1 && src.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK(sendto(u4, "r", 1, 0, (struct sockaddr *)&src, sizeof src) == 1);
	n = sizeof from;
	CHECK(readiness(u6, POLLIN, 2000) & POLLIN);
	CHECK(recvfrom(u6, b, sizeof b, 0, (struct sockaddr *)&from, &n) == 1 && n == sizeof from &&
	      IN6_IS_ADDR_V4MAPPED(&from.sin6_addr) && from.sin6_port == ua.sin_port);
	/* V6ONLY: mapped addresses are not for this socket. */
	int o6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(setsockopt(o6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
	CHECK_ERR(sendto(o6, "m", 1, 0, (struct sockaddr *)&mapped, sizeof mapped), ENETUNREACH);
	DONE();
}

/* Socket names: an unbound socket is 0.0.0.0:0 (or [::]:0); binding port 0 picks a port;
 * connect gives an unbound socket a port and the route's source address; addrlen is
 * in/out (a short buffer is filled partly, the full length returned); bind to an address
 * that is not local is EADDRNOTAVAIL, to all of 127/8 is fine; a family mismatch is
 * EAFNOSUPPORT (IPv4) or EINVAL (IPv6, short address). */
#include "check.h"
#include "inet.h"

int main(void)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	int t = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0xff, sizeof a);
	CHECK(getsockname(t, (struct sockaddr *)&a, &n) == 0 && n == sizeof a);
	CHECK(a.sin_family == AF_INET && a.sin_port == 0 && a.sin_addr.s_addr == 0);
	struct sockaddr_in6 a6;
	int t6 = socket(AF_INET6, SOCK_DGRAM, 0);
	n = sizeof a6;
	CHECK(getsockname(t6, (struct sockaddr *)&a6, &n) == 0 && n == sizeof a6 && a6.sin6_port == 0 &&
	      IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr));

	/* Port 0 on any address: a port, the address stays any. */
	struct sockaddr_in any = { .sin_family = AF_INET };
	CHECK(bind(t, (struct sockaddr *)&any, sizeof any) == 0);
	n = sizeof a;
	CHECK(getsockname(t, (struct sockaddr *)&a, &n) == 0 && ntohs(a.sin_port) >= 1024 && a.sin_addr.s_addr == 0);

	/* A short buffer: cut, the full length told. */
	char small[6];
	memset(small, 0x5a, sizeof small);
	n = 4;
	CHECK(getsockname(t, (struct sockaddr *)small, &n) == 0 && n == sizeof a);
	CHECK(memcmp(small, &a, 4) == 0 && small[4] == 0x5a);
	n = 0;
	CHECK(getsockname(t, NULL, &n) == 0 || errno == EFAULT);
	n = -1;
	CHECK_ERR(getsockname(t, (struct sockaddr *)&a, &n), EINVAL);

	/* Connect names the unbound end: loopback source, an ephemeral port. */
	struct sockaddr_in l;
	int ls = tcp_listener(&l, 2);
	int c = tcp_connect(&l);
	n = sizeof a;
	CHECK(getsockname(c, (struct sockaddr *)&a, &n) == 0 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && a.sin_port != 0);
	struct sockaddr_in p;
	n = sizeof p;
	CHECK(getpeername(c, (struct sockaddr *)&p, &n) == 0 && p.sin_port == l.sin_port);
	/* accept's address is the client's name. */
	struct sockaddr_in from;
	n = sizeof from;
	int s = accept(ls, (struct sockaddr *)&from, &n);
	CHECK(s >= 0 && n == sizeof from && from.sin_port == a.sin_port && from.sin_addr.s_addr == a.sin_addr.s_addr);
	/* A listener on any address: the accepted socket's name is the address used. */
	struct sockaddr_in any2 = { .sin_family = AF_INET };
	int la = socket(AF_INET, SOCK_STREAM, 0);
	n = sizeof any2;
	CHECK(bind(la, (struct sockaddr *)&any2, sizeof any2) == 0 && listen(la, 1) == 0 &&
	      getsockname(la, (struct sockaddr *)&any2, &n) == 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = any2.sin_port, .sin_addr.s_addr = htonl(0x7f000005) };
	int c2 = tcp_connect(&to);
	int s2 = accept(la, NULL, NULL);
	n = sizeof a;
	CHECK(c2 >= 0 && s2 >= 0 && getsockname(s2, (struct sockaddr *)&a, &n) == 0 && a.sin_addr.s_addr == htonl(0x7f000005));
	n = sizeof a;
	CHECK(getpeername(c2, (struct sockaddr *)&a, &n) == 0 && a.sin_addr.s_addr == htonl(0x7f000005));

	/* Addresses that are not ours. */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_addr.s_addr = inet_addr("198.51.100.7") };
	CHECK_ERR(bind(u, (struct sockaddr *)&far, sizeof far), EADDRNOTAVAIL);
	struct sockaddr_in lo2 = { .sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.2") };
	CHECK(bind(u, (struct sockaddr *)&lo2, sizeof lo2) == 0);
	n = sizeof a;
	CHECK(getsockname(u, (struct sockaddr *)&a, &n) == 0 && a.sin_addr.s_addr == lo2.sin_addr.s_addr);
	struct sockaddr_in6 far6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "2001:db8::1", &far6.sin6_addr);
	CHECK_ERR(bind(t6, (struct sockaddr *)&far6, sizeof far6), EADDRNOTAVAIL);
	/* Family mismatches. */
	int v = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(bind(v, (struct sockaddr *)&far6, sizeof far6), EAFNOSUPPORT);
	CHECK_ERR(bind(t6, (struct sockaddr *)&lo2, sizeof lo2), EINVAL);
	CHECK_ERR(bind(v, (struct sockaddr *)&lo2, sizeof lo2 - 1), EINVAL);
	CHECK_ERR(bind(v, (struct sockaddr *)&lo2, 0), EINVAL);
	DONE();
}

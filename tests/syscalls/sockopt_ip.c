/* IP-level options: IP_TTL (default 64, -1 resets, 0 and 256 refused), IP_TOS (ECN bits
 * dropped), IP_MULTICAST_TTL/LOOP (defaults 1, ranges), IP_RECVERR and IP_PKTINFO flags,
 * IPv6's hop limits and V6ONLY, and the IP_PKTINFO control message on a received datagram. */
#include "check.h"
#include "inet.h"

static int get(int fd, int level, int name)
{
	int v = -1;
	socklen_t n = sizeof v;
	return getsockopt(fd, level, name, &v, &n) ? -1000 : v;
}

static int set(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof v);
}

int main(void)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(get(u, IPPROTO_IP, IP_TTL) == 64 && get(t, IPPROTO_IP, IP_TTL) == 64);
	CHECK(set(u, IPPROTO_IP, IP_TTL, 5) == 0 && get(u, IPPROTO_IP, IP_TTL) == 5);
	CHECK(set(u, IPPROTO_IP, IP_TTL, -1) == 0 && get(u, IPPROTO_IP, IP_TTL) == 64);
	CHECK_ERR(set(u, IPPROTO_IP, IP_TTL, 0), EINVAL);
	CHECK_ERR(set(u, IPPROTO_IP, IP_TTL, 256), EINVAL);
	CHECK(get(t, IPPROTO_IP, IP_TOS) == 0);
	CHECK(set(t, IPPROTO_IP, IP_TOS, 0xff) == 0 && get(t, IPPROTO_IP, IP_TOS) == 0xfc);
	CHECK(get(u, IPPROTO_IP, IP_MULTICAST_TTL) == 1 && get(u, IPPROTO_IP, IP_MULTICAST_LOOP) == 1);
	CHECK(set(u, IPPROTO_IP, IP_MULTICAST_TTL, 32) == 0 && get(u, IPPROTO_IP, IP_MULTICAST_TTL) == 32);
	CHECK(set(u, IPPROTO_IP, IP_MULTICAST_TTL, -1) == 0 && get(u, IPPROTO_IP, IP_MULTICAST_TTL) == 1);
	CHECK_ERR(set(u, IPPROTO_IP, IP_MULTICAST_TTL, 256), EINVAL);
	CHECK(set(u, IPPROTO_IP, IP_MULTICAST_LOOP, 0) == 0 && get(u, IPPROTO_IP, IP_MULTICAST_LOOP) == 0);
	CHECK(get(u, IPPROTO_IP, IP_RECVERR) == 0 && get(u, IPPROTO_IP, IP_PKTINFO) == 0);
	CHECK(set(u, IPPROTO_IP, IP_RECVERR, 1) == 0 && get(u, IPPROTO_IP, IP_RECVERR) == 1);
	CHECK(set(u, IPPROTO_IP, IP_PKTINFO, 7) == 0 && get(u, IPPROTO_IP, IP_PKTINFO) == 1);

	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(get(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 64);
	CHECK(set(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 0) == 0 && get(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 0);
	CHECK(set(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1) == 0 && get(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 64);
	CHECK_ERR(set(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256), EINVAL);
	CHECK_ERR(set(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2), EINVAL);
	CHECK(get(u6, IPPROTO_IPV6, IPV6_V6ONLY) == 0);
	CHECK(set(u6, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0 && get(u6, IPPROTO_IPV6, IPV6_V6ONLY) == 1);
	/* V6ONLY is fixed once the socket is bound. */
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	CHECK(bind(u6, (struct sockaddr *)&any6, sizeof any6) == 0);
	CHECK_ERR(set(u6, IPPROTO_IPV6, IPV6_V6ONLY, 0), EINVAL);
	CHECK(get(u6, IPPROTO_IPV6, IPV6_V6ONLY) == 1);

	/* IP_PKTINFO: a datagram says which local address and interface it came in on. */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(r, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(r, (struct sockaddr *)&a, &n) == 0);
	lo.sin_port = a.sin_port;
	CHECK(set(r, IPPROTO_IP, IP_PKTINFO, 1) == 0);
	CHECK(sendto(u, "x", 1, 0, (struct sockaddr *)&lo, sizeof lo) == 1);
	char buf[4], cbuf[CMSG_SPACE(sizeof(struct in_pktinfo)) * 2];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	CHECK(recvmsg(r, &m, 0) == 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
	      c->cmsg_len == CMSG_LEN(sizeof(struct in_pktinfo)));
	CHECK(m.msg_controllen == CMSG_SPACE(sizeof(struct in_pktinfo)));
	if (c) {
		struct in_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof pi);
		CHECK(pi.ipi_ifindex == 1 && pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		      pi.ipi_spec_dst.s_addr == htonl(INADDR_LOOPBACK));
	}
	/* Without room for it, the message says MSG_CTRUNC. */
	CHECK(sendto(u, "y", 1, 0, (struct sockaddr *)&lo, sizeof lo) == 1);
	m.msg_controllen = 4;
	CHECK(recvmsg(r, &m, 0) == 1 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	/* Turned off, nothing comes. */
	CHECK(set(r, IPPROTO_IP, IP_PKTINFO, 0) == 0);
	CHECK(sendto(u, "z", 1, 0, (struct sockaddr *)&lo, sizeof lo) == 1);
	m.msg_controllen = sizeof cbuf;
	CHECK(recvmsg(r, &m, 0) == 1 && m.msg_controllen == 0 && !(m.msg_flags & MSG_CTRUNC));
	DONE();
}

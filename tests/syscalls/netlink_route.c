/* NETLINK_ROUTE and the interface ioctls: the loopback interface as Linux shows it (index 1,
 * "lo", LOOPBACK|UP, MTU 65536, 127.0.0.1/8 and ::1/128), through a raw netlink dump, glibc's
 * getifaddrs and SIOCGIF* on an inet socket. */
#include "check.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Send a dump request of `type` and walk the replies; returns the messages seen. */
static int dump(int s, int type, int family, int (*each)(struct nlmsghdr *))
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = { { sizeof req, type, NLM_F_REQUEST | NLM_F_DUMP, 42, 0 }, { family } };
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	CHECK(sendto(s, &req, sizeof req, 0, (struct sockaddr *)&k, sizeof k) == sizeof req);
	char buf[16384];
	int seen = 0, found = 0;
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(s, &m, 0);
		CHECK(n > 0);
		if (n <= 0)
			return 0;
		CHECK(m.msg_namelen == sizeof from && from.nl_family == AF_NETLINK && from.nl_pid == 0);
		CHECK(!(m.msg_flags & MSG_TRUNC));
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			CHECK(h->nlmsg_seq == 42);
			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			CHECK(h->nlmsg_type != NLMSG_ERROR);
			CHECK(h->nlmsg_flags & NLM_F_MULTI);
			seen++;
			found += each(h);
		}
	}
}

static int is_lo_link(struct nlmsghdr *h)
{
	CHECK(h->nlmsg_type == RTM_NEWLINK);
	struct ifinfomsg *i = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	const char *name = NULL;
	unsigned mtu = 0;
	for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			name = RTA_DATA(a);
		if (a->rta_type == IFLA_MTU)
			mtu = *(unsigned *)RTA_DATA(a);
	}
	if (!name || strcmp(name, "lo"))
		return 0;
	CHECK(i->ifi_index == 1);
	CHECK(i->ifi_flags & IFF_LOOPBACK && i->ifi_flags & IFF_UP);
	CHECK(mtu == 65536);
	return 1;
}

static int is_lo_addr(struct nlmsghdr *h)
{
	CHECK(h->nlmsg_type == RTM_NEWADDR);
	struct ifaddrmsg *a = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	for (struct rtattr *r = IFA_RTA(a); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
		if (r->rta_type != IFA_ADDRESS)
			continue;
		if (a->ifa_family == AF_INET && *(uint32_t *)RTA_DATA(r) == htonl(INADDR_LOOPBACK)) {
			CHECK(a->ifa_prefixlen == 8 && a->ifa_index == 1 && a->ifa_scope == RT_SCOPE_HOST);
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK(s >= 0);
	CHECK_ERR(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof a));
	socklen_t al = sizeof a;
	CHECK_OK(getsockname(s, (struct sockaddr *)&a, &al));
	CHECK(al == sizeof a && a.nl_family == AF_NETLINK && a.nl_pid == (unsigned)getpid());
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 4), EINVAL);
	int type = 0;
	socklen_t tl = sizeof type;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl));
	CHECK(type == SOCK_RAW);
	CHECK(dump(s, RTM_GETLINK, AF_UNSPEC, is_lo_link) == 1);
	CHECK(dump(s, RTM_GETADDR, AF_INET, is_lo_addr) == 1);
	close(s);

	/* glibc's getifaddrs speaks netlink too. */
	struct ifaddrs *ifa = NULL;
	CHECK_OK(getifaddrs(&ifa));
	int lo4 = 0, lo6 = 0;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, "lo"))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			lo4 += ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
		if (i->ifa_addr->sa_family == AF_INET6)
			lo6 += IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
	}
	CHECK(lo4 == 1 && lo6 == 1);
	freeifaddrs(ifa);
	CHECK(if_nametoindex("lo") == 1);

	/* SIOCGIF* on an inet socket. */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	memset(&r, 0, sizeof r);
	strcpy(r.ifr_name, "lo");
	CHECK_OK(ioctl(u, SIOCGIFINDEX, &r));
	CHECK(r.ifr_ifindex == 1);
	CHECK_OK(ioctl(u, SIOCGIFFLAGS, &r));
	CHECK(r.ifr_flags & IFF_LOOPBACK && r.ifr_flags & IFF_UP);
	CHECK_OK(ioctl(u, SIOCGIFMTU, &r));
	CHECK(r.ifr_mtu == 65536);
	CHECK_OK(ioctl(u, SIOCGIFADDR, &r));
	CHECK(((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK_OK(ioctl(u, SIOCGIFNETMASK, &r));
	CHECK(((struct sockaddr_in *)&r.ifr_netmask)->sin_addr.s_addr == htonl(0xff000000));
	r.ifr_ifindex = 1;
	CHECK_OK(ioctl(u, SIOCGIFNAME, &r));
	CHECK(!strcmp(r.ifr_name, "lo"));
	strcpy(r.ifr_name, "nosuchif0");
	CHECK_ERR(ioctl(u, SIOCGIFINDEX, &r), ENODEV);
	close(u);
	DONE();
}

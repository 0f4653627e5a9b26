/* Helpers for the inet socket tests: loopback listeners and connections. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

/* A TCP listener on 127.0.0.1 (port chosen by the kernel); its address in *a. */
static inline int tcp_listener(struct sockaddr_in *a, int backlog)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof b;
	if (l < 0 || bind(l, (struct sockaddr *)&b, sizeof b) || listen(l, backlog) ||
	    getsockname(l, (struct sockaddr *)&b, &n))
		return -1;
	*a = b;
	return l;
}

static inline int tcp_connect(const struct sockaddr_in *a)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof *a))
		return -1;
	return c;
}

/* A connected pair over loopback: *cli and *srv. */
static inline int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	if (l < 0)
		return -1;
	*cli = tcp_connect(&a);
	*srv = accept(l, NULL, NULL);
	close(l);
	return (*cli < 0 || *srv < 0) ? -1 : 0;
}

/* A UDP socket bound to 127.0.0.1 (port chosen by the kernel); its address in *a. */
static inline int udp_bound(struct sockaddr_in *a)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof b;
	if (u < 0 || bind(u, (struct sockaddr *)&b, sizeof b) || getsockname(u, (struct sockaddr *)&b, &n))
		return -1;
	*a = b;
	return u;
}

static inline int readiness(int fd, int events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* SO_RCVBUF and SO_SNDBUF: the defaults come from /proc/sys/net (tcp_rmem/tcp_wmem for TCP,
 * rmem_default/wmem_default for UDP); a set value is doubled, floored at 2304 and 4608, and
 * capped by rmem_max/wmem_max; the *FORCE variants pass the cap (as root). */
#include "check.h"
#include "inet.h"

static long sysctl(const char *path, int field)
{
	FILE *f = fopen(path, "r");
	long v[3] = { -1, -1, -1 };
	if (!f)
		return -1;
	int n = fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]);
	fclose(f);
	return n > field ? v[field] : -1;
}

static int get(int fd, int name)
{
	int v = -1;
	socklen_t n = sizeof v;
	return getsockopt(fd, SOL_SOCKET, name, &v, &n) ? -1 : v;
}

static int set(int fd, int name, int v)
{
	return setsockopt(fd, SOL_SOCKET, name, &v, sizeof v);
}

int main(void)
{
	long rmax = sysctl("/proc/sys/net/core/rmem_max", 0);
	long wmax = sysctl("/proc/sys/net/core/wmem_max", 0);
	long rdef = sysctl("/proc/sys/net/core/rmem_default", 0);
	long wdef = sysctl("/proc/sys/net/core/wmem_default", 0);
	long tcp_r = sysctl("/proc/sys/net/ipv4/tcp_rmem", 1);
	long tcp_w = sysctl("/proc/sys/net/ipv4/tcp_wmem", 1);
	CHECK(rmax > 4096 && wmax > 4096 && rdef > 0 && wdef > 0 && tcp_r > 0 && tcp_w > 0);
	CHECK(rmax < (1L << 29) && wmax < (1L << 29));

	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(get(t, SO_RCVBUF) == tcp_r && get(t, SO_SNDBUF) == tcp_w);
	CHECK(get(u, SO_RCVBUF) == rdef && get(u, SO_SNDBUF) == wdef);

	CHECK(set(t, SO_RCVBUF, 4096) == 0 && get(t, SO_RCVBUF) == 8192);
	CHECK(set(t, SO_SNDBUF, 4096) == 0 && get(t, SO_SNDBUF) == 8192);
	CHECK(set(u, SO_RCVBUF, 1) == 0 && get(u, SO_RCVBUF) == 2304);
	CHECK(set(u, SO_SNDBUF, 1) == 0 && get(u, SO_SNDBUF) == 4608);
	CHECK(set(u, SO_RCVBUF, 0) == 0 && get(u, SO_RCVBUF) == 2304);
	CHECK(set(t, SO_RCVBUF, rmax * 4) == 0 && get(t, SO_RCVBUF) == rmax * 2);
	CHECK(set(t, SO_SNDBUF, wmax * 4) == 0 && get(t, SO_SNDBUF) == wmax * 2);
	/* A negative value is a huge unsigned one: capped too. */
	CHECK(set(t, SO_RCVBUF, -5) == 0 && get(t, SO_RCVBUF) == rmax * 2);
	/* Root passes the cap with the FORCE variants. */
	CHECK(set(t, SO_RCVBUFFORCE, rmax * 2) == 0 && get(t, SO_RCVBUF) == rmax * 4);
	CHECK(set(t, SO_SNDBUFFORCE, wmax * 2) == 0 && get(t, SO_SNDBUF) == wmax * 4);

	/* An accepted socket starts from the defaults again, not from its listener's. */
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK(l >= 0 && set(l, SO_RCVBUF, 8192) == 0);
	int c = tcp_connect(&a), s = accept(l, NULL, NULL);
	CHECK(c >= 0 && s >= 0);
	/* (Linux copies the listener's buffer sizes to the child.) */
	CHECK(get(s, SO_RCVBUF) == 16384);

	/* A small receive buffer still carries a big transfer, in pieces. */
	int small = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(set(small, SO_RCVBUF, 1) == 0);
	CHECK(connect(small, (struct sockaddr *)&a, sizeof a) == 0);
	int peer = accept(l, NULL, NULL);
	static char buf[1 << 20];
	memset(buf, 'z', sizeof buf);
	if (fork() == 0) {
		ssize_t off = 0;
		while (off < (ssize_t)sizeof buf) {
			ssize_t w = write(peer, buf + off, sizeof buf - off);
			if (w <= 0)
				_exit(1);
			off += w;
		}
		_exit(0);
	}
	close(peer);
	long got = 0;
	ssize_t r;
	static char in[1 << 16];
	while ((r = read(small, in, sizeof in)) > 0)
		got += r;
	CHECK(got == sizeof buf);
	DONE();
}

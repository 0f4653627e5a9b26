/* TCP-level options: defaults (TCP_NODELAY 0, TCP_CORK 0, keepalive 7200/75/9, TCP_MAXSEG 536
 * before a connection), values read back, ranges refused with EINVAL, TCP_MAXSEG on a
 * connection at most the loopback MTU's, TCP_INFO's state through a connection's life
 * (a socket still open when its connection reaches time-wait shows CLOSE). */
#include "check.h"
#include "inet.h"

static int get(int fd, int name)
{
	int v = -1;
	socklen_t n = sizeof v;
	return getsockopt(fd, IPPROTO_TCP, name, &v, &n) ? -1 : v;
}

static int set(int fd, int name, int v)
{
	return setsockopt(fd, IPPROTO_TCP, name, &v, sizeof v);
}

static int state(int fd)
{
	struct tcp_info i;
	socklen_t n = sizeof i;
	memset(&i, 0xff, sizeof i);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &i, &n) || n == 0)
		return -1;
	return i.tcpi_state;
}

int main(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(get(t, TCP_NODELAY) == 0 && get(t, TCP_CORK) == 0);
	CHECK(get(t, TCP_KEEPIDLE) == 7200 && get(t, TCP_KEEPINTVL) == 75 && get(t, TCP_KEEPCNT) == 9);
	CHECK(get(t, TCP_MAXSEG) == 536);
	CHECK(set(t, TCP_NODELAY, 5) == 0 && get(t, TCP_NODELAY) == 1);
	CHECK(set(t, TCP_CORK, 1) == 0 && get(t, TCP_CORK) == 1);
	CHECK(set(t, TCP_CORK, 0) == 0 && get(t, TCP_CORK) == 0);
	CHECK(set(t, TCP_KEEPIDLE, 60) == 0 && get(t, TCP_KEEPIDLE) == 60);
	CHECK(set(t, TCP_KEEPINTVL, 10) == 0 && get(t, TCP_KEEPINTVL) == 10);
	CHECK(set(t, TCP_KEEPCNT, 3) == 0 && get(t, TCP_KEEPCNT) == 3);
	CHECK_ERR(set(t, TCP_KEEPIDLE, 0), EINVAL);
	CHECK_ERR(set(t, TCP_KEEPIDLE, 32768), EINVAL);
	CHECK_ERR(set(t, TCP_KEEPINTVL, -1), EINVAL);
	CHECK_ERR(set(t, TCP_KEEPCNT, 128), EINVAL);
	CHECK(get(t, TCP_KEEPIDLE) == 60);
	CHECK(set(t, TCP_MAXSEG, 1000) == 0 && get(t, TCP_MAXSEG) == 1000);
	CHECK_ERR(set(t, TCP_MAXSEG, 10), EINVAL);
	CHECK_ERR(set(t, TCP_MAXSEG, 70000), EINVAL);
	CHECK(state(t) == TCP_CLOSE);

	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK(state(l) == TCP_LISTEN);
	int c = tcp_connect(&a), s = accept(l, NULL, NULL);
	CHECK(c >= 0 && s >= 0);
	CHECK(state(c) == TCP_ESTABLISHED && state(s) == TCP_ESTABLISHED);
	int mss = get(c, TCP_MAXSEG);
	CHECK(mss > 536 && mss <= 65483);
	/* The options were set before the connection and stay. */
	int k = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(set(k, TCP_NODELAY, 1) == 0 && connect(k, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(get(k, TCP_NODELAY) == 1);
	/* Nodelay and cork on a connection: the bytes still arrive once uncorked. */
	CHECK(set(c, TCP_CORK, 1) == 0);
	CHECK(write(c, "abc", 3) == 3);
	CHECK(set(c, TCP_CORK, 0) == 0);
	char buf[8];
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	CHECK(read(s, buf, sizeof buf) == 3);
	/* Half and full close as TCP_INFO sees them. */
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK(readiness(s, POLLRDHUP, 2000) & POLLRDHUP);
	for (int i = 0; i < 100 && state(c) != TCP_FIN_WAIT2; i++)
		usleep(10000);
	CHECK(state(c) == TCP_FIN_WAIT2 && state(s) == TCP_CLOSE_WAIT);
	/* The peer's FIN ends it: an open socket's time-wait is kept apart, it shows CLOSE. */
	close(s);
	for (int i = 0; i < 100 && state(c) != TCP_CLOSE; i++)
		usleep(10000);
	CHECK(state(c) == TCP_CLOSE);
	/* tcp_info is cut to the caller's room. */
	struct tcp_info i;
	socklen_t n = 4;
	memset(&i, 0, sizeof i);
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &i, &n) == 0 && n == 4 && i.tcpi_state == TCP_CLOSE);
	DONE();
}

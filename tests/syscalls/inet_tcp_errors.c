/* TCP misuse and failure, errno for errno: a refused connect, ports in use, SO_REUSEADDR over
 * a connection in TIME-WAIT, connecting twice, talking on unconnected sockets, EPIPE with
 * SIGPIPE, bad addresses. */
#include "check.h"
#include "inet.h"
#include <signal.h>

static volatile int pipes;
static void on_pipe(int s) { (void)s; pipes++; }

int main(void)
{
	signal(SIGPIPE, on_pipe);
	struct sockaddr_in a;
	int l = tcp_listener(&a, 4);
	CHECK(l >= 0);
	/* Nothing listens on a port we bound and closed: ECONNREFUSED. */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof b;
	CHECK(bind(t, (struct sockaddr *)&b, sizeof b) == 0);
	CHECK(getsockname(t, (struct sockaddr *)&b, &n) == 0);
	close(t);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&b, sizeof b), ECONNREFUSED);
	/* ... and the socket may try again, elsewhere. */
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);

	/* The listener's port is taken, with or without SO_REUSEADDR. */
	int d = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(bind(d, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	int one = 1;
	CHECK(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	CHECK_ERR(bind(d, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	close(d);
	/* A socket binds once. */
	d = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(d, (struct sockaddr *)&b, sizeof b) == 0);
	CHECK_ERR(bind(d, (struct sockaddr *)&b, sizeof b), EINVAL);
	close(d);

	/* Unconnected sockets. */
	d = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16];
	CHECK_ERR(recv(d, buf, sizeof buf, 0), ENOTCONN);
	n = sizeof b;
	CHECK_ERR(getpeername(d, (struct sockaddr *)&b, &n), ENOTCONN);
	CHECK_ERR(shutdown(d, SHUT_WR), ENOTCONN);
	CHECK_ERR(accept(d, NULL, NULL), EINVAL);
	CHECK_ERR(shutdown(c, 7), EINVAL);
	/* Bad addresses. */
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };
	CHECK_ERR(connect(d, (struct sockaddr *)&six, sizeof six), EAFNOSUPPORT);
	CHECK_ERR(bind(d, (struct sockaddr *)&a, 8), EINVAL);
	CHECK_ERR(connect(d, (struct sockaddr *)NULL + 1, sizeof a), EFAULT);
	close(d);
	CHECK_ERR(listen(socket(AF_INET, SOCK_DGRAM, 0), 1), EOPNOTSUPP);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){ 0 }), EOPNOTSUPP);

	/* The peer closed: a write that finds the connection gone is EPIPE and SIGPIPE. */
	close(s);
	usleep(50000);
	int epipe = 0;
	for (int i = 0; i < 100 && !epipe; i++) {
		if (write(c, "x", 1) < 0) {
			CHECK(errno == EPIPE || errno == ECONNRESET);
			epipe = errno == EPIPE;
		}
		usleep(10000);
	}
	CHECK(epipe);
	CHECK(pipes >= 1);
	close(c);

	/* Restart a server whose connection the server side closed first (TIME-WAIT on its
	 * port): with SO_REUSEADDR set on both listeners it binds again; without, EADDRINUSE. */
	close(l);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(listen(l, 1) == 0);
	c = tcp_connect(&a);
	s = accept(l, NULL, NULL);
	CHECK(c >= 0 && s >= 0);
	close(s);
	close(l);
	char x;
	CHECK(read(c, &x, 1) == 0);
	close(c);
	usleep(20000);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(bind(l, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(listen(l, 1) == 0);
	c = tcp_connect(&a);
	CHECK(c >= 0);
	s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	DONE();
}

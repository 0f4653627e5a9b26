/* listen/accept/connect in the wrong state: listen on a connected socket is EINVAL, listen
 * twice only changes the backlog, connect on a listener is EISCONN, accept on a socket that
 * does not listen is EINVAL, listen and accept on UDP are EOPNOTSUPP, listen on an unbound
 * socket picks a port, a listener's getpeername is ENOTCONN. */
#include "check.h"
#include "inet.h"

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK_ERR(listen(c, 5), EINVAL);
	CHECK_ERR(listen(s, 5), EINVAL);
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK(listen(l, 10) == 0 && listen(l, 0) == 0 && listen(l, -1) == 0);
	CHECK_ERR(connect(l, (struct sockaddr *)&a, sizeof a), EISCONN);
	struct sockaddr_in p;
	socklen_t n = sizeof p;
	CHECK_ERR(getpeername(l, (struct sockaddr *)&p, &n), ENOTCONN);
	int accepted = 0;
	CHECK(accept(c, NULL, NULL) < 0 && (accepted = errno) == EINVAL);
	int fresh = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(accept(fresh, NULL, NULL), EINVAL);
	/* listen on an unbound socket binds it to a port of the kernel's choosing, on any address. */
	CHECK(listen(fresh, 1) == 0);
	n = sizeof p;
	CHECK(getsockname(fresh, (struct sockaddr *)&p, &n) == 0 && p.sin_port != 0 && p.sin_addr.s_addr == htonl(INADDR_ANY));
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = p.sin_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int k = tcp_connect(&to);
	CHECK(k >= 0);
	int got = accept(fresh, NULL, NULL);
	CHECK(got >= 0);
	/* An accepted socket is connected, not listening. */
	int v = -1;
	n = sizeof v;
	CHECK(getsockopt(got, SOL_SOCKET, SO_ACCEPTCONN, &v, &n) == 0 && v == 0);
	CHECK(getsockopt(fresh, SOL_SOCKET, SO_ACCEPTCONN, &v, &n) == 0 && v == 1);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(listen(u, 1), EOPNOTSUPP);
	CHECK_ERR(accept(u, NULL, NULL), EOPNOTSUPP);
	/* Non-sockets. */
	CHECK_ERR(listen(0, 1), ENOTSOCK);
	CHECK_ERR(listen(999, 1), EBADF);
	/* A closed listener's port is free again for a new listener. */
	close(k);
	close(got);
	close(fresh);
	int again = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(again, (struct sockaddr *)&to, sizeof to) == 0 && listen(again, 1) == 0);
	DONE();
}

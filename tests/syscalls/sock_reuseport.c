/* SO_REUSEPORT: two TCP listeners that both set it share a port and between them take every
 * connection; one that did not set it is refused (EADDRINUSE) both ways; two UDP sockets share
 * a port the same way. SO_REUSEADDR alone does not let two listeners share. */
#include "check.h"
#include "inet.h"

static int opt_socket(int type, int name)
{
	int s = socket(AF_INET, type, 0), one = 1;
	if (s >= 0 && name && setsockopt(s, SOL_SOCKET, name, &one, sizeof one))
		return -1;
	return s;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int l1 = opt_socket(SOCK_STREAM, SO_REUSEPORT), l2 = opt_socket(SOCK_STREAM, SO_REUSEPORT);
	CHECK(bind(l1, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(l1, (struct sockaddr *)&a, &n) == 0);
	CHECK(bind(l2, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(listen(l1, 64) == 0 && listen(l2, 64) == 0);
	int plain = opt_socket(SOCK_STREAM, 0);
	CHECK_ERR(bind(plain, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	int ra = opt_socket(SOCK_STREAM, SO_REUSEADDR);
	CHECK_ERR(bind(ra, (struct sockaddr *)&a, sizeof a), EADDRINUSE);

	/* Every connection lands on one of the two. */
	enum { N = 20 };
	int cs[N], got = 0;
	for (int i = 0; i < N; i++)
		CHECK((cs[i] = tcp_connect(&a)) >= 0);
	struct pollfd p[2] = { { .fd = l1, .events = POLLIN }, { .fd = l2, .events = POLLIN } };
	while (got < N && poll(p, 2, 2000) > 0) {
		for (int i = 0; i < 2; i++)
			if (p[i].revents & POLLIN) {
				int s = accept(p[i].fd, NULL, NULL);
				CHECK(s >= 0);
				close(s);
				got++;
			}
	}
	CHECK(got == N);

	/* A port first bound without the option cannot be shared by one with it. */
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	n = sizeof b;
	int x = opt_socket(SOCK_STREAM, 0), y = opt_socket(SOCK_STREAM, SO_REUSEPORT);
	CHECK(bind(x, (struct sockaddr *)&b, sizeof b) == 0 && getsockname(x, (struct sockaddr *)&b, &n) == 0);
	CHECK_ERR(bind(y, (struct sockaddr *)&b, sizeof b), EADDRINUSE);

	/* UDP. */
	struct sockaddr_in c = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	n = sizeof c;
	int u1 = opt_socket(SOCK_DGRAM, SO_REUSEPORT), u2 = opt_socket(SOCK_DGRAM, SO_REUSEPORT);
	int u3 = opt_socket(SOCK_DGRAM, 0);
	CHECK(bind(u1, (struct sockaddr *)&c, sizeof c) == 0 && getsockname(u1, (struct sockaddr *)&c, &n) == 0);
	CHECK(bind(u2, (struct sockaddr *)&c, sizeof c) == 0);
	CHECK_ERR(bind(u3, (struct sockaddr *)&c, sizeof c), EADDRINUSE);
	int v = 0;
	n = sizeof v;
	CHECK(getsockopt(u1, SOL_SOCKET, SO_REUSEPORT, &v, &n) == 0 && v == 1);
	/* A datagram goes to one of them. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(sendto(s, "d", 1, 0, (struct sockaddr *)&c, sizeof c) == 1);
	struct pollfd q[2] = { { .fd = u1, .events = POLLIN }, { .fd = u2, .events = POLLIN } };
	CHECK(poll(q, 2, 2000) == 1);
	/* Closing one lets a plain socket... not yet: the other still holds the port. */
	close(u1);
	CHECK_ERR(bind(u3, (struct sockaddr *)&c, sizeof c), EADDRINUSE);
	close(u2);
	CHECK(bind(u3, (struct sockaddr *)&c, sizeof c) == 0);
	DONE();
}

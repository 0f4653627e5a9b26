/* UDP over loopback: datagrams keep their boundaries and say where they came from; MSG_TRUNC
 * and MSG_PEEK; a connected socket takes only its peer's datagrams; errno on misuse. */
#include "check.h"
#include "inet.h"
#include <sys/ioctl.h>

int main(void)
{
	struct sockaddr_in a, b, from;
	int x = udp_bound(&a), y = udp_bound(&b);
	CHECK(x >= 0 && y >= 0);
	CHECK(sendto(y, "one", 3, 0, (struct sockaddr *)&a, sizeof a) == 3);
	CHECK(sendto(y, "second", 6, 0, (struct sockaddr *)&a, sizeof a) == 6);
	char buf[64];
	socklen_t n = sizeof from;
	CHECK(readiness(x, POLLIN, 1000) & POLLIN);
	int q = -1;
	CHECK(ioctl(x, FIONREAD, &q) == 0 && q == 3);
	CHECK(recvfrom(x, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &n) == 3);
	CHECK(recvfrom(x, buf, sizeof buf, 0, (struct sockaddr *)&from, &n) == 3);
	CHECK(memcmp(buf, "one", 3) == 0 && n == sizeof from && from.sin_port == b.sin_port);
	/* A datagram bigger than the buffer: cut, the rest dropped; MSG_TRUNC tells its size. */
	CHECK(recv(x, buf, 2, MSG_TRUNC) == 6);
	CHECK(recv(x, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	/* recvmsg reports the cut. */
	CHECK(sendto(y, "abcdef", 6, 0, (struct sockaddr *)&a, sizeof a) == 6);
	struct iovec iov = { buf, 3 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
	CHECK(recvmsg(x, &m, 0) == 3 && (m.msg_flags & MSG_TRUNC) && m.msg_namelen == sizeof from);
	/* Zero-length datagrams exist. */
	CHECK(sendto(y, "", 0, 0, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(recv(x, buf, sizeof buf, 0) == 0);

	/* Connected: send without an address; datagrams from others are not delivered. */
	CHECK(connect(x, (struct sockaddr *)&b, sizeof b) == 0);
	CHECK(send(x, "hi", 2, 0) == 2);
	CHECK(recv(y, buf, sizeof buf, 0) == 2);
	struct sockaddr_in c;
	int z = udp_bound(&c);
	CHECK(sendto(z, "stranger", 8, 0, (struct sockaddr *)&a, sizeof a) == 8);
	CHECK(sendto(y, "friend", 6, 0, (struct sockaddr *)&a, sizeof a) == 6);
	CHECK(readiness(x, POLLIN, 1000) & POLLIN);
	memset(buf, 0, sizeof buf);
	CHECK(recv(x, buf, sizeof buf, 0) == 6 && memcmp(buf, "friend", 6) == 0);
	n = sizeof from;
	CHECK(getpeername(x, (struct sockaddr *)&from, &n) == 0 && from.sin_port == b.sin_port);
	/* Dissolve the association with AF_UNSPEC. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	CHECK(connect(x, &unspec, sizeof unspec) == 0);
	CHECK_ERR(getpeername(x, (struct sockaddr *)&from, &n), ENOTCONN);

	/* Misuse. */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(send(u, "x", 1, 0), EDESTADDRREQ);
	static char huge[70000];
	CHECK_ERR(sendto(u, huge, sizeof huge, 0, (struct sockaddr *)&a, sizeof a), EMSGSIZE);
	CHECK_ERR(accept(u, NULL, NULL), EOPNOTSUPP);
	/* An unbound socket gets a port at its first send. */
	CHECK(sendto(u, "auto", 4, 0, (struct sockaddr *)&b, sizeof b) == 4);
	struct sockaddr_in me;
	n = sizeof me;
	CHECK(getsockname(u, (struct sockaddr *)&me, &n) == 0 && me.sin_port != 0);
	n = sizeof from;
	CHECK(recvfrom(y, buf, sizeof buf, 0, (struct sockaddr *)&from, &n) == 4 && from.sin_port == me.sin_port);
	int bound2 = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(bind(bound2, (struct sockaddr *)&b, sizeof b), EADDRINUSE);
	/* x's port was the kernel's choice, so dissolving its association gave it back. */
	CHECK(bind(bound2, (struct sockaddr *)&a, sizeof a) == 0);
	DONE();
}

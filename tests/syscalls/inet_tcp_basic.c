/* TCP over loopback: a connection carries bytes both ways, names both ends, peeks, waits for
 * all, counts what is queued, and half-closes. */
#include "check.h"
#include "inet.h"
#include <sys/ioctl.h>
#include <sys/wait.h>

int main(void)
{
	struct sockaddr_in a, n;
	socklen_t len = sizeof n;
	int l = tcp_listener(&a, 4);
	CHECK(l >= 0);
	CHECK(ntohs(a.sin_port) != 0);
	int c = tcp_connect(&a);
	CHECK(c >= 0);
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;
	int s = accept(l, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0);
	CHECK(plen == sizeof peer && peer.sin_family == AF_INET);
	CHECK(peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	/* The accepted socket's peer is the client's own name, and the other way round. */
	CHECK(getsockname(c, (struct sockaddr *)&n, &len) == 0);
	CHECK(n.sin_port == peer.sin_port && n.sin_addr.s_addr == peer.sin_addr.s_addr);
	len = sizeof n;
	CHECK(getpeername(c, (struct sockaddr *)&n, &len) == 0 && n.sin_port == a.sin_port);
	len = sizeof n;
	CHECK(getsockname(s, (struct sockaddr *)&n, &len) == 0 && n.sin_port == a.sin_port);
	/* A short name buffer: truncated, the full length reported. */
	char small[4];
	len = sizeof small;
	CHECK(getsockname(s, (struct sockaddr *)small, &len) == 0 && len == sizeof n);

	CHECK(write(c, "hello", 5) == 5);
	char b[64] = { 0 };
	CHECK(readiness(s, POLLIN, 1000) & POLLIN);
	int q = -1;
	CHECK(ioctl(s, FIONREAD, &q) == 0 && q == 5);
	CHECK(recv(s, b, 3, MSG_PEEK) == 3 && memcmp(b, "hel", 3) == 0);
	CHECK(recv(s, b, sizeof b, 0) == 5 && memcmp(b, "hello", 5) == 0);
	CHECK(recv(s, b, sizeof b, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	/* MSG_WAITALL gathers two writes. */
	CHECK(send(s, "abc", 3, 0) == 3);
	CHECK(send(s, "def", 3, 0) == 3);
	memset(b, 0, sizeof b);
	CHECK(recv(c, b, 6, MSG_WAITALL) == 6 && memcmp(b, "abcdef", 6) == 0);
	/* A bigger transfer arrives whole and in order. */
	static char big[1 << 20], got[1 << 20];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + i / 4096);
	pid_t p = fork();
	if (p == 0) {
		size_t off = 0;
		while (off < sizeof big) {
			ssize_t w = write(c, big + off, sizeof big - off);
			if (w <= 0)
				_exit(1);
			off += w;
		}
		_exit(0);
	}
	size_t off = 0;
	while (off < sizeof got) {
		ssize_t r = read(s, got + off, sizeof got - off);
		if (r <= 0)
			break;
		off += r;
	}
	CHECK(off == sizeof got && memcmp(big, got, sizeof big) == 0);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* Half-close: the server reads end of stream, and can still answer. */
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK(readiness(s, POLLIN, 1000) & POLLIN);
	CHECK(read(s, b, sizeof b) == 0);
	CHECK(readiness(s, POLLRDHUP, 1000) & POLLRDHUP);
	CHECK(write(s, "bye", 3) == 3);
	memset(b, 0, sizeof b);
	CHECK(read(c, b, sizeof b) == 3 && memcmp(b, "bye", 3) == 0);
	CHECK(send(c, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	close(s);
	CHECK(read(c, b, sizeof b) == 0);
	close(c);
	close(l);
	DONE();
}

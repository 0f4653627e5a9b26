/* One end of a conversation over TCP or UDP, for the network tests (built static, it runs in a
 * busybox root):
 *   peer tcp-serve PORT        accept one connection, answer each line L with "echo:L"
 *   peer udp-serve PORT        answer one datagram D with "echo:D"
 *   peer tcp-call HOST PORT M  send line M, print the answer
 *   peer udp-call HOST PORT M  send datagram M, print the answer (retrying: UDP may be lost)
 * Exit status 0 only if the exchange happened. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "peer: %s: %s\n", what, strerror(errno));
	return 1;
}

static struct sockaddr_in addr(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = host ? inet_addr(host) : htonl(INADDR_ANY);
	return a;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	int tcp = !strncmp(mode, "tcp", 3);
	int s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket");
	char buf[4096], out[4200];
	if (strstr(mode, "serve")) {
		int one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		struct sockaddr_in a = addr(NULL, atoi(argv[2]));
		if (bind(s, (struct sockaddr *)&a, sizeof a))
			return fail("bind");
		if (tcp) {
			if (listen(s, 8))
				return fail("listen");
			printf("listening\n");
			fflush(stdout);
			int c = accept(s, NULL, NULL);
			if (c < 0)
				return fail("accept");
			ssize_t n = read(c, buf, sizeof buf - 1);
			if (n <= 0)
				return fail("read");
			buf[n] = 0;
			int m = snprintf(out, sizeof out, "echo:%s", buf);
			if (write(c, out, m) != m)
				return fail("write");
			close(c);
		} else {
			printf("listening\n");
			fflush(stdout);
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
			if (n < 0)
				return fail("recvfrom");
			buf[n] = 0;
			int m = snprintf(out, sizeof out, "echo:%s", buf);
			if (sendto(s, out, m, 0, (struct sockaddr *)&from, fl) != m)
				return fail("sendto");
		}
		return 0;
	}
	if (argc < 5)
		return 2;
	struct sockaddr_in a = addr(argv[2], atoi(argv[3]));
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (tcp) {
		if (connect(s, (struct sockaddr *)&a, sizeof a))
			return fail("connect");
		size_t len = strlen(argv[4]);
		if (write(s, argv[4], len) != (ssize_t)len)
			return fail("write");
		ssize_t n = read(s, buf, sizeof buf - 1);
		if (n <= 0)
			return fail("read");
		buf[n] = 0;
		printf("%s\n", buf);
		return 0;
	}
	for (int i = 0; i < 10; i++) {
		if (sendto(s, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&a, sizeof a) < 0)
			return fail("sendto");
		ssize_t n = recv(s, buf, sizeof buf - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			printf("%s\n", buf);
			return 0;
		}
	}
	return fail("no answer");
}

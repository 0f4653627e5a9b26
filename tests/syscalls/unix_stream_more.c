/* Unix stream sockets: MSG_WAITALL waits for the whole request, shutdown(SHUT_RD) makes
 * reads return 0 and poll report POLLRDHUP, writing after the peer closed is EPIPE with
 * SIGPIPE unless MSG_NOSIGNAL, data written before close is still read, and a listening
 * socket's backlog fills up (EAGAIN for non-blocking connect). */
#define _GNU_SOURCE
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static volatile int pipes;
static void on_pipe(int s)
{
	(void)s;
	pipes++;
}

int main(void)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* MSG_WAITALL: the reader gets all 10 bytes though they come in two writes. */
	pid_t c = fork();
	if (c == 0) {
		write(sv[1], "hello", 5);
		usleep(50000);
		write(sv[1], "world", 5);
		_exit(0);
	}
	char buf[16];
	CHECK(recv(sv[0], buf, 10, MSG_WAITALL) == 10 && memcmp(buf, "helloworld", 10) == 0);
	waitpid(c, NULL, 0);

	/* Data sent before close is still delivered, then EOF and POLLHUP/POLLRDHUP. */
	CHECK(write(sv[1], "tail", 4) == 4);
	close(sv[1]);
	struct pollfd p = {sv[0], POLLIN | POLLRDHUP, 0};
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && (p.revents & POLLRDHUP));
	CHECK(read(sv[0], buf, sizeof buf) == 4);
	CHECK(read(sv[0], buf, sizeof buf) == 0);
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));

	/* Writing to a closed peer: EPIPE, SIGPIPE unless MSG_NOSIGNAL. */
	signal(SIGPIPE, on_pipe);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK(pipes == 1);
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(pipes == 1);
	close(sv[0]);

	/* shutdown(SHUT_RD): our reads see EOF even with nothing sent. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(shutdown(sv[0], SHUT_RD));
	CHECK(read(sv[0], buf, sizeof buf) == 0);
	struct pollfd q = {sv[0], POLLIN | POLLRDHUP, 0};
	CHECK(poll(&q, 1, 0) == 1 && (q.revents & POLLRDHUP));
	/* SHUT_WR: the peer reads EOF; we can still read what it sends. */
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK(read(sv[1], buf, sizeof buf) == 0);
	CHECK_ERR(shutdown(sv[0], 7), EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* A full backlog: non-blocking connects get EAGAIN once it is full. */
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "backlog-%d", getpid());
	socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
	CHECK_OK(bind(srv, (struct sockaddr *)&a, alen));
	CHECK_OK(listen(srv, 1));
	int ok = 0, again = 0;
	for (int i = 0; i < 8; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(s, (struct sockaddr *)&a, alen) == 0)
			ok++;
		else if (errno == EAGAIN)
			again++;
	}
	CHECK(ok >= 1 && ok <= 3 && again == 8 - ok);
	/* Accepting makes room. */
	CHECK(accept(srv, NULL, NULL) >= 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_OK(connect(s, (struct sockaddr *)&a, alen));
	DONE();
}

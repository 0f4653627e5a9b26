/* recv flags on TCP: MSG_PEEK leaves the bytes (and peeks across segments), MSG_DONTWAIT on a
 * blocking socket gives EAGAIN, MSG_WAITALL gathers writes and stops short at end-of-file,
 * MSG_TRUNC throws the bytes away and counts them, MSG_OOB without urgent data is EINVAL;
 * send with MSG_NOSIGNAL gives EPIPE without the signal, MSG_MORE still delivers. */
#include "check.h"
#include "inet.h"
#include <signal.h>
#include <sys/wait.h>

static volatile int pipes;
static void on_pipe(int s) { (void)s; pipes++; }

int main(void)
{
	signal(SIGPIPE, on_pipe);
	int c = -1, s = -1;
	char buf[64];
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK_ERR(recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	CHECK_ERR(recv(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	CHECK(send(c, "abc", 3, 0) == 3);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	usleep(20000);
	CHECK(send(c, "def", 3, 0) == 3);
	usleep(50000);
	CHECK(recv(s, buf, 2, MSG_PEEK) == 2 && memcmp(buf, "ab", 2) == 0);
	CHECK(recv(s, buf, sizeof buf, MSG_PEEK) == 6 && memcmp(buf, "abcdef", 6) == 0);
	/* MSG_TRUNC on a stream: dropped, counted. */
	CHECK(recv(s, NULL, 2, MSG_TRUNC) == 2);
	CHECK(recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "cdef", 4) == 0);
	CHECK_ERR(recv(s, buf, sizeof buf, MSG_OOB), EINVAL);

	/* MSG_WAITALL: two writes, one read. */
	if (fork() == 0) {
		send(c, "0123", 4, 0);
		usleep(50000);
		send(c, "4567", 4, 0);
		usleep(50000);
		send(c, "89", 2, 0);
		shutdown(c, SHUT_WR);
		_exit(0);
	}
	memset(buf, 0, sizeof buf);
	CHECK(recv(s, buf, 8, MSG_WAITALL) == 8 && memcmp(buf, "01234567", 8) == 0);
	/* End-of-file cuts a WAITALL short. */
	CHECK(recv(s, buf, 8, MSG_WAITALL) == 2 && memcmp(buf, "89", 2) == 0);
	CHECK(recv(s, buf, 8, MSG_WAITALL) == 0);
	wait(NULL);

	/* MSG_MORE just holds back a little; the bytes still come. */
	CHECK(send(s, "mo", 2, MSG_MORE) == 2);
	CHECK(send(s, "re", 2, 0) == 2);
	int got = 0;
	while (got < 4 && readiness(c, POLLIN, 2000) & POLLIN) {
		int r = recv(c, buf + got, sizeof buf - got, 0);
		if (r <= 0)
			break;
		got += r;
	}
	CHECK(got == 4 && memcmp(buf, "more", 4) == 0);

	/* The peer gone: EPIPE, with SIGPIPE unless MSG_NOSIGNAL. */
	close(c);
	usleep(50000);
	send(s, "x", 1, MSG_NOSIGNAL); /* answered by a reset */
	usleep(50000);
	pipes = 0;
	CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(pipes == 0);
	CHECK_ERR(send(s, "x", 1, 0), EPIPE);
	CHECK(pipes == 1);
	DONE();
}

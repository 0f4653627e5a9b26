/* shutdown() on TCP: SHUT_WR sends FIN (the peer reads EOF, POLLRDHUP, and can still answer;
 * our writes are EPIPE); SHUT_RD makes reads return 0 at once and poll say POLLIN|POLLRDHUP;
 * SHUT_RDWR gives POLLHUP; shutting down twice is fine; a listener's shutdown wakes accept. */
#include "check.h"
#include "inet.h"
#include <pthread.h>
#include <signal.h>

static int listener;
static void *acceptor(void *arg)
{
	(void)arg;
	int r = accept(listener, NULL, NULL);
	return (void *)(long)(r < 0 ? errno : 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int c = -1, s = -1;
	char buf[16];
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(write(c, "last", 4) == 4);
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK_ERR(write(c, "x", 1), EPIPE);
	int r = readiness(s, POLLIN | POLLRDHUP, 2000);
	CHECK((r & POLLIN) && (r & POLLRDHUP) && !(r & POLLHUP));
	CHECK(read(s, buf, sizeof buf) == 4);
	CHECK(read(s, buf, sizeof buf) == 0);
	CHECK(read(s, buf, sizeof buf) == 0);
	/* The other direction still works. */
	CHECK(write(s, "reply", 5) == 5);
	CHECK(readiness(c, POLLIN, 2000) & POLLIN);
	CHECK(read(c, buf, sizeof buf) == 5);
	r = readiness(c, POLLOUT, 0);
	CHECK((r & POLLOUT) && !(r & POLLHUP));
	/* Both sides shut: POLLHUP for each. */
	CHECK(shutdown(s, SHUT_WR) == 0);
	r = readiness(c, POLLIN, 2000);
	CHECK((r & POLLIN) && (r & POLLHUP));
	CHECK(read(c, buf, sizeof buf) == 0);
	r = readiness(s, POLLIN, 2000);
	CHECK((r & POLLHUP));
	close(c);
	close(s);

	/* SHUT_RD: reads end at once, even with the peer still sending. */
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(shutdown(s, SHUT_RD) == 0);
	CHECK(read(s, buf, sizeof buf) == 0);
	r = readiness(s, POLLIN | POLLRDHUP, 0);
	CHECK((r & POLLIN) && (r & POLLRDHUP) && !(r & POLLHUP));
	/* Writing still works. */
	CHECK(write(s, "w", 1) == 1);
	CHECK(readiness(c, POLLIN, 2000) & POLLIN);
	CHECK(read(c, buf, sizeof buf) == 1);
	CHECK(shutdown(s, SHUT_RDWR) == 0);
	r = readiness(s, POLLIN, 0);
	CHECK(r & POLLHUP);
	CHECK_ERR(write(s, "x", 1), EPIPE);
	CHECK_ERR(shutdown(s, -1), EINVAL);
	CHECK_ERR(shutdown(s, 3), EINVAL);
	close(c);
	close(s);

	/* A listener's shutdown wakes a blocked accept with EINVAL. */
	struct sockaddr_in a;
	listener = tcp_listener(&a, 4);
	pthread_t th;
	pthread_create(&th, NULL, acceptor, NULL);
	usleep(100000);
	CHECK(shutdown(listener, SHUT_RDWR) == 0);
	void *ret;
	pthread_join(th, &ret);
	CHECK((long)ret == EINVAL);
	/* It no longer listens: connecting is refused. */
	int d = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect(d, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
	/* And shutdown on a socket that was never connected is ENOTCONN. */
	CHECK_ERR(shutdown(d, SHUT_RD), ENOTCONN);
	CHECK_ERR(shutdown(STDIN_FILENO == 0 ? open("/dev/null", O_RDONLY) : 0, SHUT_RD), ENOTSOCK);
	DONE();
}

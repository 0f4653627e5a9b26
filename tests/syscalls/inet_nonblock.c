/* Non-blocking TCP: connect in progress then done (POLLOUT, SO_ERROR 0), a refused one
 * reported through SO_ERROR, accept and recv with nothing there, SO_RCVTIMEO. */
#include "check.h"
#include "inet.h"
#include <sys/time.h>

int main(void)
{
	struct sockaddr_in a;
	int l = tcp_listener(&a, 4);
	CHECK(l >= 0);
	CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	CHECK(readiness(l, POLLIN, 0) == 0);

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&a, sizeof a);
	CHECK(r == 0 || errno == EINPROGRESS);
	CHECK(readiness(c, POLLOUT, 2000) & POLLOUT);
	int err = -1;
	socklen_t n = sizeof err;
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &n) == 0 && err == 0);
	/* The connect that finished in the background is reported once by connect (0), then
	 * the socket is connected. */
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
	CHECK(readiness(l, POLLIN, 2000) & POLLIN);
	int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0);
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	char b[8];
	CHECK_ERR(read(s, b, sizeof b), EAGAIN);
	CHECK_ERR(recv(c, b, sizeof b, 0), EAGAIN);
	/* A fresh socket polls writable and hung up, as Linux's. */
	int f = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(readiness(f, POLLIN | POLLOUT, 0) == (POLLOUT | POLLHUP));

	/* Refused, non-blocking: the error arrives through SO_ERROR (once). */
	struct sockaddr_in b2 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	n = sizeof b2;
	CHECK(bind(f, (struct sockaddr *)&b2, sizeof b2) == 0);
	CHECK(getsockname(f, (struct sockaddr *)&b2, &n) == 0);
	close(f);
	int d = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = connect(d, (struct sockaddr *)&b2, sizeof b2);
	CHECK(r == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED));
	if (errno == EINPROGRESS) {
		CHECK(readiness(d, POLLOUT, 2000) & (POLLOUT | POLLERR));
		n = sizeof err;
		CHECK(getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &n) == 0 && err == ECONNREFUSED);
		CHECK(getsockopt(d, SOL_SOCKET, SO_ERROR, &err, &n) == 0 && err == 0);
	}

	/* SO_RCVTIMEO: a blocking read gives up with EAGAIN. */
	CHECK(fcntl(s, F_SETFL, 0) == 0);
	struct timeval tv = { 0, 50000 };
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	struct timeval t0, t1;
	gettimeofday(&t0, NULL);
	CHECK_ERR(read(s, b, sizeof b), EAGAIN);
	gettimeofday(&t1, NULL);
	long us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_usec - t0.tv_usec);
	CHECK(us >= 40000 && us < 2000000);
	struct timeval got;
	n = sizeof got;
	CHECK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &n) == 0 && got.tv_sec == 0 && got.tv_usec >= 40000 && got.tv_usec <= 60000);
	DONE();
}

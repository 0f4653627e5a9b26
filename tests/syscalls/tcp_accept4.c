/* accept4: SOCK_NONBLOCK and SOCK_CLOEXEC on the new socket only; other flags EINVAL; the
 * new socket does not inherit the listener's O_NONBLOCK; a listener polls readable when a
 * connection waits; addrlen in/out (a negative one is EINVAL, and the connection, already
 * taken, is closed); EINVAL on a socket that does not listen, ENOTSOCK, EBADF. */
#include "check.h"
#include "inet.h"

int main(void)
{
	struct sockaddr_in a, from;
	int l = tcp_listener(&a, 8);
	CHECK(l >= 0);
	CHECK(readiness(l, POLLIN, 0) == 0);
	int c1 = tcp_connect(&a);
	CHECK(c1 >= 0);
	CHECK(readiness(l, POLLIN, 2000) == POLLIN);
	socklen_t n = sizeof from;
	CHECK_ERR(accept4(l, (struct sockaddr *)&from, &n, 0x40), EINVAL);
	CHECK_ERR(accept4(l, (struct sockaddr *)&from, &n, O_APPEND), EINVAL);
	int s1 = accept4(l, (struct sockaddr *)&from, &n, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK(s1 >= 0 && (fcntl(s1, F_GETFL) & O_NONBLOCK) && fcntl(s1, F_GETFD) == FD_CLOEXEC);
	CHECK(n == sizeof from && from.sin_family == AF_INET);
	CHECK(readiness(l, POLLIN, 0) == 0);
	/* The listener's own O_NONBLOCK is not passed on. */
	CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
	int c2 = tcp_connect(&a);
	CHECK(readiness(l, POLLIN, 2000) & POLLIN);
	int s2 = accept4(l, NULL, NULL, 0);
	CHECK(s2 >= 0 && !(fcntl(s2, F_GETFL) & O_NONBLOCK) && fcntl(s2, F_GETFD) == 0);
	CHECK_ERR(accept4(l, NULL, NULL, 0), EAGAIN);
	/* A short address buffer. */
	int c3 = tcp_connect(&a);
	CHECK(readiness(l, POLLIN, 2000) & POLLIN);
	char sm[4];
	n = sizeof sm;
	int s3 = accept4(l, (struct sockaddr *)sm, &n, 0);
	CHECK(s3 >= 0 && n == sizeof from);
	/* A bad address length. */
	int c4 = tcp_connect(&a);
	CHECK(readiness(l, POLLIN, 2000) & POLLIN);
	n = -1;
	CHECK_ERR(accept4(l, (struct sockaddr *)&from, &n, 0), EINVAL);
	/* Linux took the connection before it looked at the length, and closed it. */
	CHECK(readiness(l, POLLIN, 0) == 0);
	CHECK(readiness(c4, POLLIN, 2000) & POLLIN);
	char e;
	CHECK(read(c4, &e, 1) == 0);
	c4 = tcp_connect(&a);
	CHECK(readiness(l, POLLIN, 2000) & POLLIN);
	n = sizeof from;
	int s4 = accept4(l, (struct sockaddr *)&from, &n, 0);
	CHECK(s4 >= 0);
	/* Data flows on what was accepted. */
	CHECK(write(c1, "1", 1) == 1 && write(c2, "2", 1) == 1 && write(c3, "3", 1) == 1 && write(c4, "4", 1) == 1);
	char b[4] = { 0 };
	CHECK(readiness(s1, POLLIN, 2000) && read(s1, b, 1) == 1 && b[0] == '1');
	CHECK(read(s2, b, 1) == 1 && b[0] == '2');
	CHECK(read(s3, b, 1) == 1 && b[0] == '3');
	CHECK(read(s4, b, 1) == 1 && b[0] == '4');
	/* Not a listener, not a socket. */
	CHECK_ERR(accept4(s1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(accept4(open("/dev/null", O_RDONLY), NULL, NULL, 0), ENOTSOCK);
	CHECK_ERR(accept4(-1, NULL, NULL, 0), EBADF);
	DONE();
}

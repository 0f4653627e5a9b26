/* Socket calls on descriptors that are not sockets: ENOTSOCK on a pipe and a file for every
 * call; EBADF on a closed descriptor; a socket's read/write work like recv/send, and
 * lseek on it is ESPIPE. */
#include "check.h"
#include "inet.h"

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int f = open("/", O_RDONLY | O_DIRECTORY);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int v = 0;
	socklen_t vn = sizeof v;
	int fds[] = { p[0], f };
	for (int i = 0; i < 2; i++) {
		int d = fds[i];
		CHECK_ERR(bind(d, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
		CHECK_ERR(connect(d, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
		CHECK_ERR(listen(d, 1), ENOTSOCK);
		CHECK_ERR(accept(d, NULL, NULL), ENOTSOCK);
		CHECK_ERR(getsockname(d, (struct sockaddr *)&a, &n), ENOTSOCK);
		CHECK_ERR(getpeername(d, (struct sockaddr *)&a, &n), ENOTSOCK);
		CHECK_ERR(getsockopt(d, SOL_SOCKET, SO_TYPE, &v, &vn), ENOTSOCK);
		CHECK_ERR(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), ENOTSOCK);
		CHECK_ERR(send(d, "x", 1, 0), ENOTSOCK);
		CHECK_ERR(recv(d, &v, 1, MSG_DONTWAIT), ENOTSOCK);
		CHECK_ERR(shutdown(d, SHUT_RD), ENOTSOCK);
	}
	CHECK_ERR(bind(999, (struct sockaddr *)&a, sizeof a), EBADF);
	CHECK_ERR(send(999, "x", 1, 0), EBADF);
	CHECK_ERR(shutdown(999, SHUT_RD), EBADF);
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK_ERR(shutdown(c, 7), EINVAL);
	CHECK(write(c, "abc", 3) == 3);
	char b[4];
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	CHECK(read(s, b, sizeof b) == 3 && memcmp(b, "abc", 3) == 0);
	CHECK_ERR(lseek(s, 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pread(s, b, 1, 0), ESPIPE);
	DONE();
}

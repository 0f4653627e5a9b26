/* splice between TCP sockets and pipes: socket -> pipe -> socket carries a 1 MiB stream
 * unchanged; splice from a non-blocking socket with nothing to read is EAGAIN;
 * end-of-file on the socket gives 0; splicing a socket to a socket (no pipe) is EINVAL;
 * an offset with a socket is EINVAL (sockets have no pread). */
#define _GNU_SOURCE
#include "check.h"
#include "inet.h"
#include <fcntl.h>
#include <sys/wait.h>

#define SIZE (1 << 20)

int main(void)
{
	int a, b, c, d;
	CHECK(tcp_pair(&a, &b) == 0); /* a writes, b is spliced */
	CHECK(tcp_pair(&c, &d) == 0); /* c is spliced into, d reads */
	int p[2];
	CHECK(pipe(p) == 0);
	/* SPLICE_F_NONBLOCK is about the pipe; the socket's own O_NONBLOCK says whether its
	 * read waits. */
	CHECK(fcntl(b, F_SETFL, O_NONBLOCK) == 0);
	CHECK_ERR(splice(b, NULL, p[1], NULL, 10, 0), EAGAIN);
	CHECK(fcntl(b, F_SETFL, 0) == 0);
	CHECK_ERR(splice(b, NULL, c, NULL, 10, 0), EINVAL);
	loff_t off = 0;
	CHECK_ERR(splice(b, &off, p[1], NULL, 10, 0), EINVAL);
	static unsigned char data[SIZE], got[SIZE];
	for (int i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i ^ (i >> 9));
	pid_t w = fork();
	if (w == 0) {
		size_t n = 0;
		while (n < SIZE) {
			ssize_t r = write(a, data + n, SIZE - n);
			if (r <= 0)
				_exit(1);
			n += r;
		}
		shutdown(a, SHUT_WR);
		_exit(0);
	}
	close(a);
	pid_t r = fork();
	if (r == 0) {
		size_t n = 0;
		ssize_t k;
		while ((k = read(d, got + n, sizeof got - n)) > 0)
			n += k;
		_exit(n == SIZE && memcmp(got, data, SIZE) == 0 ? 0 : 1);
	}
	close(d);
	size_t moved = 0;
	for (;;) {
		ssize_t in = splice(b, NULL, p[1], NULL, 65536, 0);
		if (in <= 0) {
			CHECK(in == 0);
			break;
		}
		while (in > 0) {
			ssize_t out = splice(p[0], NULL, c, NULL, in, 0);
			if (out <= 0) {
				CHECK(0);
				break;
			}
			in -= out;
			moved += out;
		}
	}
	CHECK(moved == SIZE);
	shutdown(c, SHUT_WR);
	int st;
	CHECK(waitpid(w, &st, 0) == w && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(waitpid(r, &st, 0) == r && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

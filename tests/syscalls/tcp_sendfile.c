/* sendfile to a TCP socket: a 4 MiB file arrives whole and in order at the peer, with the
 * offset pointer advanced and the file offset left alone; without a pointer the file offset
 * moves; a socket as the source is EINVAL; a count past the end sends what there is. */
#include "check.h"
#include "inet.h"
#include <sys/sendfile.h>
#include <sys/wait.h>

#define SIZE (4 << 20)

int main(void)
{
	char path[] = "/tmp/sendfileXXXXXX";
	int f = mkstemp(path);
	CHECK(f >= 0);
	unlink(path);
	static unsigned char data[SIZE];
	for (int i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	CHECK(write(f, data, SIZE) == SIZE);
	int c, s;
	CHECK(tcp_pair(&c, &s) == 0);
	pid_t p = fork();
	if (p == 0) {
		/* The reader: checks every byte, then says how many it got. */
		static unsigned char got[SIZE + 16];
		size_t n = 0;
		ssize_t r;
		while ((r = read(s, got + n, sizeof got - n)) > 0)
			n += r;
		_exit(n == SIZE + 10 && memcmp(got, data, SIZE) == 0 && memcmp(got + SIZE, data, 10) == 0 ? 0 : 1);
	}
	close(s);
	off_t off = 0;
	size_t sent = 0;
	while (sent < SIZE) {
		ssize_t r = sendfile(c, f, &off, SIZE - sent);
		if (r <= 0)
			break;
		sent += r;
	}
	CHECK(sent == SIZE && off == SIZE);
	CHECK(lseek(f, 0, SEEK_CUR) == SIZE); /* from write(); sendfile with a pointer left it */
	/* Without a pointer: the file's own offset, which moves. */
	CHECK(lseek(f, 0, SEEK_SET) == 0);
	CHECK(sendfile(c, f, NULL, 10) == 10);
	CHECK(lseek(f, 0, SEEK_CUR) == 10);
	/* Past the end: nothing more. */
	off = SIZE;
	CHECK(sendfile(c, f, &off, 100) == 0 && off == SIZE);
	/* A socket is no source. */
	int c2, s2;
	CHECK(tcp_pair(&c2, &s2) == 0);
	CHECK_ERR(sendfile(c, s2, NULL, 10), EINVAL);
	shutdown(c, SHUT_WR);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

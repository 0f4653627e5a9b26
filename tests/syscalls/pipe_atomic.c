/* Pipes: writes of at most PIPE_BUF bytes are atomic among concurrent writers; larger ones
 * may interleave but lose nothing; a non-blocking write of more than the free space writes
 * what fits (or EAGAIN if PIPE_BUF would not fit); O_DIRECT makes a packet pipe. */
#define _GNU_SOURCE
#include "check.h"
#include <limits.h>
#include <sys/wait.h>

int main(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	/* 4 writers, each 200 records of PIPE_BUF bytes filled with its own letter. */
	for (int w = 0; w < 4; w++) {
		if (fork() == 0) {
			char rec[PIPE_BUF];
			memset(rec, 'a' + w, sizeof rec);
			close(p[0]);
			for (int i = 0; i < 200; i++)
				if (write(p[1], rec, sizeof rec) != sizeof rec)
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	char rec[PIPE_BUF];
	int counts[4] = {0}, torn = 0;
	size_t have = 0;
	ssize_t n;
	while ((n = read(p[0], rec + have, sizeof rec - have)) > 0) {
		have += n;
		if (have < sizeof rec)
			continue;
		int c = rec[0] - 'a';
		for (size_t i = 1; i < sizeof rec; i++)
			if (rec[i] != rec[0])
				torn = 1;
		if (c >= 0 && c < 4)
			counts[c]++;
		have = 0;
	}
	for (int w = 0; w < 4; w++)
		wait(NULL);
	CHECK(!torn && have == 0);
	CHECK(counts[0] == 200 && counts[1] == 200 && counts[2] == 200 && counts[3] == 200);

	/* Non-blocking partial writes. */
	int q[2];
	CHECK_OK(pipe2(q, O_NONBLOCK));
	int cap = fcntl(q[1], F_GETPIPE_SZ);
	CHECK(cap == 65536);
	static char big[70000];
	CHECK(write(q[1], big, sizeof big) == cap);
	CHECK_ERR(write(q[1], big, 1), EAGAIN);
	/* Room for less than PIPE_BUF: a small atomic write cannot go in partially. */
	CHECK(read(q[0], big, 100) == 100);
	CHECK_ERR(write(q[1], big, 200), EAGAIN);
	/* ... a write larger than PIPE_BUF takes what fits (a whole page of room). */
	CHECK(read(q[0], big, 4096 - 100) == 4096 - 100);
	CHECK(write(q[1], big, 10000) == 4096);
	close(q[0]);
	close(q[1]);

	/* O_DIRECT: each write is a packet; a read returns at most one packet. */
	int d[2];
	CHECK_OK(pipe2(d, O_DIRECT));
	/* The flag belongs to the write end. */
	CHECK(fcntl(d[1], F_GETFL) & O_DIRECT);
	CHECK(!(fcntl(d[0], F_GETFL) & O_DIRECT));
	CHECK(write(d[1], "hello", 5) == 5);
	CHECK(write(d[1], "world!", 6) == 6);
	char b[64];
	CHECK(read(d[0], b, sizeof b) == 5);
	/* A short read discards the rest of the packet. */
	CHECK(read(d[0], b, 3) == 3 && memcmp(b, "wor", 3) == 0);
	CHECK(fcntl(d[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK_ERR(read(d[0], b, sizeof b), EAGAIN);
	/* A packet longer than a page is split into page-sized packets. */
	static char two_pages[8192];
	CHECK(write(d[1], two_pages, sizeof two_pages) == sizeof two_pages);
	CHECK(read(d[0], two_pages, sizeof two_pages) == 4096);
	CHECK(read(d[0], two_pages, sizeof two_pages) == 4096);
	DONE();
}

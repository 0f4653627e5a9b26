/* Both ends of a TCP connection write 8 MiB at once, non-blocking, under poll: neither side
 * deadlocks when both send buffers fill, and each receives exactly what the other sent. */
#include "check.h"
#include "inet.h"
#include <fcntl.h>

#define SIZE (8 << 20)

static unsigned char out[2][SIZE], in[2][SIZE];

int main(void)
{
	int fd[2];
	CHECK(tcp_pair(&fd[0], &fd[1]) == 0);
	for (int k = 0; k < 2; k++) {
		fcntl(fd[k], F_SETFL, O_NONBLOCK);
		for (int i = 0; i < SIZE; i++)
			out[k][i] = (unsigned char)(i * (k + 3) + (i >> 12));
	}
	size_t sent[2] = { 0, 0 }, got[2] = { 0, 0 };
	int rounds = 0;
	while ((sent[0] < SIZE || sent[1] < SIZE || got[0] < SIZE || got[1] < SIZE) && rounds < 200000) {
		rounds++;
		struct pollfd p[2];
		for (int k = 0; k < 2; k++) {
			p[k].fd = fd[k];
			p[k].events = (sent[k] < SIZE ? POLLOUT : 0) | (got[k] < SIZE ? POLLIN : 0);
		}
		if (poll(p, 2, 5000) <= 0) {
			CHECK(0);
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (p[k].revents & POLLOUT) {
				ssize_t n = write(fd[k], out[k] + sent[k], SIZE - sent[k]);
				if (n > 0)
					sent[k] += n;
				else
					CHECK(errno == EAGAIN);
			}
			if (p[k].revents & POLLIN) {
				ssize_t n = read(fd[k], in[k] + got[k], SIZE - got[k]);
				if (n > 0)
					got[k] += n;
				else
					CHECK(n < 0 && errno == EAGAIN);
			}
		}
	}
	CHECK(sent[0] == SIZE && sent[1] == SIZE && got[0] == SIZE && got[1] == SIZE);
	CHECK(memcmp(in[0], out[1], SIZE) == 0 && memcmp(in[1], out[0], SIZE) == 0);
	DONE();
}

#include "check.h"
#include <poll.h>
#include <sys/select.h>
#include <sys/wait.h>

int main(void)
{
	int fds[2];
	CHECK_OK(pipe(fds));
	struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLOUT, 0 } };
	CHECK(poll(p, 2, 0) == 1 && p[0].revents == 0 && p[1].revents == POLLOUT);
	write(fds[1], "x", 1);
	CHECK(poll(p, 2, 0) == 2 && p[0].revents == POLLIN);
	/* Timeout: nothing ready. */
	char c;
	read(fds[0], &c, 1);
	p[1].events = 0;
	CHECK(poll(p, 2, 30) == 0);
	/* A bad descriptor is POLLNVAL; a negative one is skipped. */
	struct pollfd bad[2] = { { 999, POLLIN, 0 }, { -1, POLLIN, 0 } };
	CHECK(poll(bad, 2, 0) == 1 && bad[0].revents == POLLNVAL && bad[1].revents == 0);
	/* Woken by a writer in another process. */
	pid_t ch = fork();
	if (ch == 0) {
		usleep(30000);
		write(fds[1], "y", 1);
		_exit(0);
	}
	p[0].revents = 0;
	CHECK(poll(p, 1, 5000) == 1 && (p[0].revents & POLLIN));
	waitpid(ch, NULL, 0);
	read(fds[0], &c, 1);
	/* Hang-up when the writer closes. */
	close(fds[1]);
	CHECK(poll(p, 1, 0) == 1 && (p[0].revents & POLLHUP));
	/* select on the same. */
	int f2[2];
	pipe(f2);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(f2[0], &r);
	FD_SET(f2[1], &w);
	struct timeval tv = { 0, 0 };
	CHECK(select(f2[1] + 1, &r, &w, NULL, &tv) == 1 && !FD_ISSET(f2[0], &r) && FD_ISSET(f2[1], &w));
	write(f2[1], "z", 1);
	FD_ZERO(&r);
	FD_SET(f2[0], &r);
	tv.tv_usec = 1000;
	CHECK(select(f2[0] + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(f2[0], &r));
	/* A closed descriptor in a set is EBADF (fds above the table's size are ignored by Linux,
	 * so use one below its minimum of 64). */
	FD_ZERO(&r);
	FD_SET(50, &r);
	CHECK_ERR(select(51, &r, NULL, NULL, &tv), EBADF);
	struct pollfd *volatile none = NULL;
	CHECK_ERR(poll(none, 1, 0), EFAULT);
	DONE();
}

/* select/pselect6/poll/ppoll: readiness of pipes, the timeout left over (select updates it),
 * POLLNVAL and EBADF for bad descriptors, POLLHUP and POLLERR at the ends of a pipe, the
 * temporary signal mask of pselect/ppoll, and the errors. */
#define _GNU_SOURCE
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

static volatile int got;
static void on_usr1(int s)
{
	(void)s;
	got = 1;
}

int main(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	/* Write end writable, read end not readable. */
	CHECK(select(p[1] + 1, &r, &w, NULL, &tv) == 1);
	CHECK(!FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w));
	CHECK(write(p[1], "x", 1) == 1);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	CHECK(select(p[1] + 1, &r, &w, NULL, &tv) == 2);

	/* The timeout is updated with the time left. */
	FD_ZERO(&r);
	int q[2];
	CHECK_OK(pipe(q));
	FD_SET(q[0], &r);
	tv.tv_sec = 0;
	tv.tv_usec = 50000;
	CHECK(select(q[0] + 1, &r, NULL, NULL, &tv) == 0);
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
	/* Raw select folds whole seconds of tv_usec into tv_sec; negative values are EINVAL. */
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_usec = 2000000;
	CHECK(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv) == 1);
	CHECK(tv.tv_sec == 1 || tv.tv_sec == 2);
	tv.tv_sec = 0;
	tv.tv_usec = -1;
	CHECK_ERR(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv), EINVAL);
	tv.tv_usec = 0;
	/* A closed descriptor in a set: EBADF (descriptors past the table are ignored, so use
	 * one just closed). */
	int closed = dup(0);
	close(closed);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	CHECK_ERR(select(closed + 1, &r, NULL, NULL, &tv), EBADF);
	CHECK_ERR(select(-1, NULL, NULL, NULL, &tv), EINVAL);
	CHECK_ERR(syscall(SYS_select, 1, (fd_set *)8, NULL, NULL, &tv), EFAULT);

	/* poll: POLLNVAL for a bad fd (not an error), negative fds ignored. */
	struct pollfd pf[3] = {{900, POLLIN, 0}, {-1, POLLIN, 7}, {p[0], POLLIN, 0}};
	CHECK(poll(pf, 3, 0) == 2);
	CHECK(pf[0].revents == POLLNVAL && pf[1].revents == 0 && pf[2].revents == POLLIN);
	/* Hang-up: the reader sees POLLHUP once the writer is gone (and the data first). */
	close(q[1]);
	struct pollfd h = {q[0], POLLIN, 0};
	CHECK(poll(&h, 1, 0) == 1 && h.revents == POLLHUP);
	/* The writer sees POLLERR once the reader is gone. */
	int e[2];
	CHECK_OK(pipe(e));
	close(e[0]);
	struct pollfd we = {e[1], POLLOUT, 0};
	CHECK(poll(&we, 1, 0) == 1 && (we.revents & POLLERR));
	CHECK_ERR(syscall(SYS_poll, 8, 1, 0), EFAULT);
	CHECK_ERR(syscall(SYS_poll, pf, 1u << 30, 0), EINVAL);

	/* ppoll/pselect: the mask given applies while waiting, the old one after. */
	signal(SIGUSR1, on_usr1);
	sigset_t block, none, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	struct pollfd idle = {e[1] == 0 ? 0 : p[0], 0, 0};
	struct timespec ts = {5, 0};
	CHECK_ERR(ppoll(&idle, 1, &ts, &none), EINTR);
	CHECK(got);
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1));
	got = 0;
	kill(getpid(), SIGUSR1);
	FD_ZERO(&r);
	CHECK_ERR(pselect(1, &r, NULL, NULL, &ts, &none), EINTR);
	CHECK(got);
	/* ppoll's timeout is a timespec and is left unchanged by glibc's wrapper; raw ppoll
	 * writes back the time left. */
	struct timespec t2 = {0, 20000000};
	CHECK(syscall(SYS_ppoll, &idle, 1, &t2, NULL, 8) == 0);
	CHECK(t2.tv_sec == 0 && t2.tv_nsec == 0);
	t2.tv_nsec = -1;
	CHECK_ERR(syscall(SYS_ppoll, &idle, 1, &t2, NULL, 8), EINVAL);
	DONE();
}

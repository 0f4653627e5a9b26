#include "check.h"
#include <sys/epoll.h>
#include <sys/wait.h>

int main(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC);
	int fds[2];
	pipe(fds);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev));
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev), EEXIST);
	struct epoll_event out[4];
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	write(fds[1], "ab", 2);
	/* Level-triggered: reported while readable. */
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 0x1234);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	/* Edge-triggered: once per change. */
	ev.events = EPOLLIN | EPOLLET;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	write(fds[1], "c", 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	/* One-shot: disabled after one report until re-armed. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev));
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	/* Blocking wait woken by another process. */
	char buf[8];
	read(fds[0], buf, sizeof buf);
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev);
	pid_t p = fork();
	if (p == 0) {
		usleep(30000);
		write(fds[1], "d", 1);
		_exit(0);
	}
	CHECK(epoll_wait(ep, out, 4, 5000) == 1);
	waitpid(p, NULL, 0);
	/* Errors. */
	int file = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev), EPERM);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	CHECK_ERR(epoll_ctl(file, EPOLL_CTL_ADD, fds[0], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, fds[1], &ev), ENOENT);
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL));
	/* Closing the last descriptor removes the interest. */
	int f2[2];
	pipe(f2);
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_ADD, f2[1], &ev);
	CHECK(epoll_wait(ep, out, 4, 0) == 1);
	close(f2[1]);
	CHECK(epoll_wait(ep, out, 4, 0) == 0);
	DONE();
}

/* A listener with backlog 128 takes 128 connections made at once (non-blocking connects,
 * none refused), then an epoll server echoes for 64 clients at the same time. */
#include "check.h"
#include "inet.h"
#include <sys/epoll.h>
#include <sys/wait.h>

#define CONNS 128
#define CLIENTS 64
#define ROUNDS 20

int main(void)
{
	struct sockaddr_in a;
	int l = tcp_listener(&a, CONNS);
	CHECK(l >= 0);
	int c[CONNS];
	for (int i = 0; i < CONNS; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int r = connect(c[i], (struct sockaddr *)&a, sizeof a);
		CHECK(r == 0 || errno == EINPROGRESS);
	}
	int ok = 0;
	for (int i = 0; i < CONNS; i++) {
		int err = -1;
		socklen_t n = sizeof err;
		if (readiness(c[i], POLLOUT, 5000) & POLLOUT && getsockopt(c[i], SOL_SOCKET, SO_ERROR, &err, &n) == 0 && err == 0)
			ok++;
	}
	CHECK(ok == CONNS);
	int accepted = 0;
	for (int i = 0; i < CONNS; i++) {
		int s = accept(l, NULL, NULL);
		if (s >= 0) {
			accepted++;
			close(s);
		}
	}
	CHECK(accepted == CONNS);
	for (int i = 0; i < CONNS; i++)
		close(c[i]);

	/* Echo: 64 client processes, one epoll server. */
	pid_t kids[CLIENTS];
	for (int k = 0; k < CLIENTS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			int s = tcp_connect(&a);
			if (s < 0)
				_exit(1);
			for (int r = 0; r < ROUNDS; r++) {
				char m[32], back[32];
				int len = snprintf(m, sizeof m, "client %d round %d", k, r);
				if (write(s, m, len) != len)
					_exit(2);
				int got = 0;
				while (got < len) {
					int x = read(s, back + got, len - got);
					if (x <= 0)
						_exit(3);
					got += x;
				}
				if (memcmp(m, back, len))
					_exit(4);
			}
			_exit(0);
		}
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
	int open_conns = 0, served = 0;
	while (served < CLIENTS) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, 10000);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
				if (s >= 0) {
					struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = s };
					epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
					open_conns++;
				}
				continue;
			}
			char buf[256];
			int r = read(fd, buf, sizeof buf);
			if (r > 0) {
				CHECK(write(fd, buf, r) == r);
			} else if (r == 0 || (errno != EAGAIN)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				served++;
			}
		}
	}
	CHECK(open_conns == CLIENTS && served == CLIENTS);
	for (int k = 0; k < CLIENTS; k++) {
		int st;
		CHECK(waitpid(kids[k], &st, 0) == kids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	DONE();
}

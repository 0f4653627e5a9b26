/* epoll on TCP sockets: a connected socket is writable at once; EPOLLIN on arrival; edge
 * triggering reports new data once per arrival; EPOLLRDHUP when the peer shuts its side;
 * EPOLLHUP|EPOLLERR after a reset; a listener is EPOLLIN with a connection waiting;
 * EPOLLONESHOT needs re-arming; a non-blocking connect reports EPOLLOUT. */
#include "check.h"
#include "inet.h"
#include <sys/epoll.h>

static unsigned wait1(int ep, int ms)
{
	struct epoll_event e;
	int n = epoll_wait(ep, &e, 1, ms);
	return n == 1 ? e.events : 0;
}

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.fd = s };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &e) == 0);
	CHECK(wait1(ep, 1000) == EPOLLOUT);
	CHECK(write(c, "ab", 2) == 2);
	for (int i = 0; i < 100 && wait1(ep, 20) != (EPOLLIN | EPOLLOUT); i++)
		;
	CHECK(wait1(ep, 0) == (EPOLLIN | EPOLLOUT));
	char b[16];
	CHECK(read(s, b, sizeof b) == 2);
	CHECK(wait1(ep, 0) == EPOLLOUT);

	/* Edge-triggered: once per arrival, not again while the bytes sit unread. */
	e.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &e) == 0);
	CHECK(wait1(ep, 0) == 0);
	CHECK(write(c, "x", 1) == 1);
	CHECK(wait1(ep, 2000) == EPOLLIN);
	CHECK(wait1(ep, 50) == 0);
	CHECK(write(c, "y", 1) == 1);
	CHECK(wait1(ep, 2000) == EPOLLIN);
	CHECK(read(s, b, sizeof b) == 2);

	/* One-shot. */
	e.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &e) == 0);
	CHECK(write(c, "z", 1) == 1);
	CHECK(wait1(ep, 2000) == EPOLLIN);
	CHECK(wait1(ep, 50) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &e) == 0);
	CHECK(wait1(ep, 0) == EPOLLIN);
	CHECK(read(s, b, sizeof b) == 1);

	/* The peer's FIN: EPOLLIN|EPOLLRDHUP. */
	e.events = EPOLLIN | EPOLLRDHUP;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &e) == 0);
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK(wait1(ep, 2000) == (EPOLLIN | EPOLLRDHUP));
	/* Reset: errors and hang-up even when not asked for. */
	struct linger lg = { 1, 0 };
	CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
	close(c);
	unsigned r = 0;
	for (int i = 0; i < 100 && !((r = wait1(ep, 20)) & EPOLLHUP); i++)
		;
	CHECK((r & EPOLLHUP) && (r & EPOLLERR) && (r & EPOLLIN) && (r & EPOLLRDHUP));
	close(s);

	/* Listener and non-blocking connect. */
	struct sockaddr_in a;
	int l = tcp_listener(&a, 2);
	int ep2 = epoll_create1(0);
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = l };
	CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, l, &e) == 0);
	int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int cr = connect(nb, (struct sockaddr *)&a, sizeof a);
	CHECK(cr == 0 || errno == EINPROGRESS);
	e = (struct epoll_event){ .events = EPOLLOUT, .data.fd = nb };
	CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, nb, &e) == 0);
	struct epoll_event ev[2];
	int seen_l = 0, seen_c = 0;
	for (int i = 0; i < 20 && !(seen_l && seen_c); i++) {
		int k = epoll_wait(ep2, ev, 2, 100);
		for (int j = 0; j < k; j++) {
			if (ev[j].data.fd == l && ev[j].events == EPOLLIN)
				seen_l = 1;
			if (ev[j].data.fd == nb && ev[j].events == EPOLLOUT)
				seen_c = 1;
		}
	}
	CHECK(seen_l && seen_c);
	DONE();
}

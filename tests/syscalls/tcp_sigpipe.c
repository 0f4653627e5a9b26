/* SIGPIPE on TCP: writing after our own SHUT_WR kills a process that keeps the default
 * action (the wait status says SIGPIPE); with SIGPIPE ignored write is EPIPE; blocked,
 * the signal stays pending; send with MSG_NOSIGNAL raises nothing. */
#include "check.h"
#include "inet.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(shutdown(c, SHUT_WR) == 0);
	pid_t p = fork();
	if (p == 0) {
		write(c, "x", 1);
		_exit(0);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
	/* Blocked: pending, and the call says EPIPE. */
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	CHECK_ERR(write(c, "x", 1), EPIPE);
	CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE));
	int sig = 0;
	CHECK(sigwait(&set, &sig) == 0 && sig == SIGPIPE);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGPIPE));
	CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(c, "x", 1), EPIPE);
	CHECK_ERR(sendto(c, "x", 1, 0, NULL, 0), EPIPE);
	/* The peer may still write to us (half-close). */
	CHECK(write(s, "ok", 2) == 2);
	char b[4];
	CHECK(readiness(c, POLLIN, 2000) & POLLIN && read(c, b, sizeof b) == 2);
	DONE();
}

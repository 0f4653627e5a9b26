/* A TCP socket shared by dup and fork: closing one descriptor leaves the connection up; a
 * child writes through its copy; shutdown through any copy affects all; the peer sees EOF
 * only when the last copy closes. */
#include "check.h"
#include "inet.h"
#include <sys/wait.h>

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	int d = dup(c);
	CHECK(d >= 0);
	close(c);
	CHECK(write(d, "a", 1) == 1);
	char b[8];
	CHECK(readiness(s, POLLIN, 2000) & POLLIN && read(s, b, sizeof b) == 1);
	pid_t p = fork();
	if (p == 0) {
		_exit(write(d, "child", 5) == 5 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN && read(s, b, sizeof b) == 5 && memcmp(b, "child", 5) == 0);
	/* The child's exit closed its copy: no EOF yet. */
	CHECK(!(readiness(s, POLLIN, 100) & POLLIN));
	/* Another process holds a copy while we close ours. */
	int go[2];
	CHECK(pipe(go) == 0);
	p = fork();
	if (p == 0) {
		char x;
		read(go[0], &x, 1);
		_exit(write(d, "late", 4) == 4 ? 0 : 1);
	}
	close(d);
	CHECK(!(readiness(s, POLLIN, 100) & POLLIN));
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN && read(s, b, sizeof b) == 4);
	/* Now every copy is gone: end of file. */
	CHECK(readiness(s, POLLIN, 2000) & POLLIN && read(s, b, sizeof b) == 0);

	/* shutdown through a dup reaches the connection. */
	CHECK(tcp_pair(&c, &s) == 0);
	d = dup(c);
	CHECK(shutdown(d, SHUT_WR) == 0);
	CHECK(readiness(s, POLLIN, 2000) & POLLIN && read(s, b, sizeof b) == 0);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	DONE();
}

#include "check.h"
#include <sys/wait.h>

int main(void)
{
	/* A child writes 1 MiB through a pipe in blocking mode; the parent reads it all. */
	int fds[2];
	CHECK_OK(pipe(fds));
	pid_t p = fork();
	if (p == 0) {
		close(fds[0]);
		static char buf[1 << 20];
		for (int i = 0; i < (int)sizeof buf; i++)
			buf[i] = (char)(i * 13);
		ssize_t n = write(fds[1], buf, sizeof buf);
		_exit(n == sizeof buf ? 0 : 1);
	}
	close(fds[1]);
	static char got[1 << 20];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fds[0], got + total, sizeof got - total)) > 0)
		total += n;
	CHECK(total == sizeof got);
	int ok = 1;
	for (int i = 0; i < (int)sizeof got; i++)
		ok &= got[i] == (char)(i * 13);
	CHECK(ok);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 0);
	DONE();
}

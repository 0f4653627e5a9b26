#include "check.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

static void h(int sig) { (void)sig; }

static int read_with(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
	int fds[2];
	pipe(fds);
	pid_t p = fork();
	if (p == 0) {
		usleep(150000);
		write(fds[1], "y", 1);
		_exit(0);
	}
	alarm(0);
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	char c;
	errno = 0;
	int r = read(fds[0], &c, 1);
	int e = errno;
	waitpid(p, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	return r == 1 ? 1 : -e;
}

int main(void)
{
	/* Without SA_RESTART the read fails with EINTR; with it, it completes. */
	CHECK(read_with(0) == -EINTR);
	CHECK(read_with(SA_RESTART) == 1);
	DONE();
}

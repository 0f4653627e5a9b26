#include "check.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

int main(void)
{
	/* As a subreaper we inherit our grandchildren when their parent dies. */
	CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int v = 0;
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &v));
	CHECK(v == 1);
	int fds[2];
	pipe(fds);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			read(fds[0], &c, 1);
			_exit(17);
		}
		write(fds[1], &g, 0);
		_exit(1);
	}
	int st;
	CHECK(waitpid(mid, &st, 0) == mid && WEXITSTATUS(st) == 1);
	CHECK(write(fds[1], "x", 1) == 1);
	pid_t r = wait(&st);
	CHECK(r > 0 && r != mid && WEXITSTATUS(st) == 17);
	DONE();
}

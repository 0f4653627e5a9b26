#include "check.h"
#include <sys/wait.h>

int main(void)
{
	volatile int shared = 0;
	pid_t p = vfork();
	if (p == 0) {
		shared = 7; /* the parent's memory, until exec or exit */
		_exit(3);
	}
	CHECK(shared == 7);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 3);
	p = vfork();
	if (p == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(99);
	}
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

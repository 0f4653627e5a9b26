/* Nothing is mapped at 0x7fffe0000000 in a fresh process (natively, unless the stack happens to
 * be there): reading it is SIGSEGV. */
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	unsigned char v;
	if (mincore((void *)0x7fffe0000000UL, 4096, &v) == 0)
		return 0; /* natively the stack may sit there */
	pid_t c = fork();
	if (c == 0) {
		(void)*(volatile char *)0x7fffe0000000UL;
		_exit(0);
	}
	int s;
	CHECK(waitpid(c, &s, 0) == c && WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV);
	DONE();
}

#include "check.h"
#include <sys/mman.h>

/* Recursion that touches about 2 MiB of stack: the stack mapping must grow down. */
static int deep(int n, volatile char *prev)
{
	volatile char frame[4000];
	frame[0] = (char)n;
	frame[3999] = prev ? prev[0] : 0;
	if (n == 0)
		return frame[0];
	return deep(n - 1, frame) + 1;
}

int main(void)
{
	CHECK(deep(500, NULL) == 500);
	/* A MAP_GROWSDOWN mapping grows when touched just below it. Linux keeps a guard gap to an
	 * accessible mapping below, so reserve the space under it as PROT_NONE, and free the part
	 * it grows into. */
	char *r = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	CHECK_OK(munmap(r + (512 << 10), 512 << 10));
	char *g = mmap(r + (1 << 20) - 4096, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	CHECK(g == r + (1 << 20) - 4096);
	g[0] = 1;
	g[-1] = 2;
	g[-3 * 4096] = 3;
	CHECK(g[-1] == 2 && g[-3 * 4096] == 3);
	DONE();
}

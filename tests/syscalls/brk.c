#include "check.h"

int main(void)
{
	char *cur = (char *)syscall(SYS_brk, 0);
	CHECK(cur != NULL);
	char *want = cur + 3 * 4096 + 100;
	CHECK((char *)syscall(SYS_brk, want) == want);
	memset(cur, 'b', 3 * 4096 + 100);
	CHECK(cur[3 * 4096 + 99] == 'b');
	/* Shrinking works; brk(0) reports the new break. */
	CHECK((char *)syscall(SYS_brk, cur + 10) == cur + 10);
	CHECK((char *)syscall(SYS_brk, 0) == cur + 10);
	/* Below the start of the heap: refused, the break stays. */
	CHECK((char *)syscall(SYS_brk, (char *)4096) == cur + 10);
	/* Growing again gives zeroed memory past the old break's page. */
	CHECK((char *)syscall(SYS_brk, cur + 8 * 4096) == cur + 8 * 4096);
	CHECK(cur[5 * 4096] == 0);
	/* sbrk works on top of it. */
	void *s = sbrk(0);
	CHECK(s == cur + 8 * 4096);
	DONE();
}

#include "check.h"
#include <sys/mman.h>

int main(void)
{
	char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK(p != MAP_FAILED);
	unsigned char vec[8];
	CHECK_OK(mincore(p, 8 * 4096, vec));
	int all = 1;
	for (int i = 0; i < 8; i++)
		all &= vec[i] & 1;
	CHECK(all);
	CHECK_ERR(mincore(p + 1, 4096, vec), EINVAL);
	CHECK_OK(munmap(p + 4096, 4096));
	CHECK_ERR(mincore(p, 8 * 4096, vec), ENOMEM);
	char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q[0] = 1;
	CHECK_OK(mincore(q, 4096, vec));
	CHECK(vec[0] & 1);
	DONE();
}

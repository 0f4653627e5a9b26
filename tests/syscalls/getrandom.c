#include "check.h"
#include <sys/random.h>

int main(void)
{
	unsigned char a[64], b[64];
	CHECK(getrandom(a, sizeof a, 0) == sizeof a);
	CHECK(getrandom(b, sizeof b, GRND_NONBLOCK) == sizeof b);
	CHECK(memcmp(a, b, sizeof a) != 0);
	CHECK(getrandom(a, 0, 0) == 0);
	CHECK_ERR(getrandom(a, sizeof a, 0x40), EINVAL);
	CHECK_ERR(getrandom(NULL, 16, 0), EFAULT);
	int fd = open("/dev/urandom", O_RDONLY);
	CHECK(read(fd, a, sizeof a) == sizeof a);
	DONE();
}

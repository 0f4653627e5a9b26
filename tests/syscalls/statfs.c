#include "check.h"
#include <sys/statfs.h>

int main(void)
{
	struct statfs s;
	CHECK_OK(statfs("/", &s));
	CHECK(s.f_bsize > 0 && s.f_namelen == 255);
	int fd = open("/etc/passwd", O_RDONLY);
	struct statfs f;
	CHECK_OK(fstatfs(fd, &f));
	CHECK_ERR(statfs("/nonexistent", &s), ENOENT);
	CHECK_ERR(statfs("/", NULL), EFAULT);
	CHECK_ERR(fstatfs(9999, &s), EBADF);
	DONE();
}

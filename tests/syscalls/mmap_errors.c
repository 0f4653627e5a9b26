#include "check.h"
#include <sys/mman.h>

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 9999, 0), EBADF);
	/* MAP_SHARED|MAP_PRIVATE is MAP_SHARED_VALIDATE, which rejects unknown flags. */
	void *v = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_PRIVATE, fd, 0);
	CHECK(v != MAP_FAILED);
	/* MAP_SYNC needs a DAX file. */
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), EOPNOTSUPP);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, 0xf, fd, 0), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, 0, fd, 0), EINVAL);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV);
	int wfd = open("/dev/null", O_WRONLY);
	CHECK(wfd >= 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, wfd, 0), EACCES);
	/* Read-only shared mapping of a read-only fd is fine, but mprotect cannot add write. */
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(mprotect(p, 4096, PROT_READ | PROT_WRITE), EACCES);
	/* Private mappings may become writable. */
	void *q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(q != MAP_FAILED);
	CHECK_OK(mprotect(q, 4096, PROT_READ | PROT_WRITE));
	((char *)q)[0] = 'z';
	CHECK(((char *)q)[0] == 'z');
	DONE();
}

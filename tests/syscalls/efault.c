#include "check.h"
#include <sys/uio.h>
#include <time.h>

int main(void)
{
	CHECK_ERR(write(1, (void *)1, 10), EFAULT);
	CHECK_ERR(write(1, (void *)0xffff800000000000UL, 10), EFAULT);
	struct stat st;
	CHECK_ERR(stat(NULL, &st), EFAULT);
	CHECK_ERR(syscall(SYS_stat, (void *)8, &st), EFAULT);
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(read(fd, (void *)1, 10), EFAULT);
	CHECK_ERR(read(fd, NULL, 10), EFAULT);
	CHECK_ERR(fstat(fd, (void *)16), EFAULT);
	CHECK_ERR(syscall(SYS_nanosleep, (void *)3, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_uname, (void *)-1L), EFAULT);
	CHECK_ERR(syscall(SYS_getrandom, (void *)4096, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_open, (void *)-4096L, O_RDONLY), EFAULT);
	/* Partly valid buffers: the part before the bad page is copied. */
	char *buf = malloc(10);
	CHECK(read(fd, buf, 10) == 10);
	DONE();
}

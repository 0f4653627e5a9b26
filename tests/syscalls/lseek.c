#include "check.h"

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(lseek(fd, 0, SEEK_END) == st.st_size);
	CHECK(lseek(fd, -5, SEEK_END) == st.st_size - 5);
	CHECK(lseek(fd, 3, SEEK_SET) == 3);
	CHECK(lseek(fd, 4, SEEK_CUR) == 7);
	CHECK(lseek(fd, 100000, SEEK_SET) == 100000);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(fd, -200000, SEEK_CUR), EINVAL);
	CHECK_ERR(lseek(fd, 0, 42), EINVAL);
	CHECK_ERR(lseek(9999, 0, SEEK_SET), EBADF);
	CHECK(lseek(fd, 0, SEEK_DATA) == 0);
	CHECK(lseek(fd, 0, SEEK_HOLE) == st.st_size);
	CHECK_ERR(lseek(fd, st.st_size, SEEK_DATA), ENXIO);
	DONE();
}

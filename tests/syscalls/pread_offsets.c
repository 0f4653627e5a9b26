#include "check.h"

int main(void)
{
	int fd = open("/bin/busybox", O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	char a[1000], b[1000];
	/* pread leaves the offset alone. */
	CHECK(lseek(fd, 10, SEEK_SET) == 10);
	CHECK(pread(fd, a, sizeof a, 5000) == sizeof a);
	CHECK(lseek(fd, 0, SEEK_CUR) == 10);
	CHECK(lseek(fd, 5000, SEEK_SET) == 5000);
	CHECK(read(fd, b, sizeof b) == sizeof b);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 5000 + (off_t)sizeof b);
	/* At and past EOF. */
	CHECK(pread(fd, a, sizeof a, st.st_size) == 0);
	CHECK(pread(fd, a, sizeof a, st.st_size + 100000) == 0);
	CHECK(pread(fd, a, sizeof a, st.st_size - 10) == 10);
	CHECK_ERR(pread(fd, a, sizeof a, -1), EINVAL);
	/* A zero-length read returns 0. */
	CHECK(read(fd, a, 0) == 0);
	/* Read the whole file in odd-sized chunks and compare with pread. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	off_t total = 0;
	ssize_t n;
	int same = 1;
	while ((n = read(fd, a, 777)) > 0) {
		same &= pread(fd, b, n, total) == n && memcmp(a, b, n) == 0;
		total += n;
	}
	CHECK(same && n == 0 && total == st.st_size);
	DONE();
}

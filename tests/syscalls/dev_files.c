#include "check.h"

int main(void)
{
	char buf[128];
	int null = open("/dev/null", O_RDWR);
	CHECK(null >= 0);
	CHECK(read(null, buf, sizeof buf) == 0);
	CHECK(write(null, "abc", 3) == 3);
	int zero = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof buf);
	CHECK(read(zero, buf, sizeof buf) == sizeof buf);
	int z = 1;
	for (unsigned i = 0; i < sizeof buf; i++)
		z &= buf[i] == 0;
	CHECK(z);
	int full = open("/dev/full", O_WRONLY);
	CHECK_ERR(write(full, "x", 1), ENOSPC);
	int ur = open("/dev/urandom", O_RDONLY);
	CHECK(read(ur, buf, 64) == 64);
	struct stat st;
	CHECK_OK(stat("/dev/null", &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
	CHECK_OK(stat("/dev/zero", &st));
	CHECK(major(st.st_rdev) == 1 && minor(st.st_rdev) == 5);
	CHECK_OK(stat("/dev/urandom", &st));
	CHECK(major(st.st_rdev) == 1 && minor(st.st_rdev) == 9);
	/* Devices are not seekable in a meaningful way, but lseek succeeds on /dev/null. */
	CHECK(lseek(null, 0, SEEK_SET) == 0);
	DONE();
}

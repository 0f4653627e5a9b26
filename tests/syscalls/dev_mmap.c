/* The memory devices: /dev/zero maps anonymous memory (private: copy-on-write zeros; shared:
 * one object a forked child writes into), /dev/null and /dev/full cannot be mapped shared
 * or private (ENODEV), /dev/full reads zeros and refuses writes (ENOSPC), /dev/null and
 * /dev/zero take any write, seeking them always lands at 0, and /dev/urandom reads large
 * buffers whole. */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	int z = open("/dev/zero", O_RDWR);
	CHECK(z >= 0);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	CHECK(p != MAP_FAILED);
	CHECK(p[0] == 0 && p[8191] == 0);
	p[100] = 7;
	char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	CHECK(q != MAP_FAILED && q[100] == 0); /* each private map is its own */

	/* Shared /dev/zero: memory shared with forked children. */
	int *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	CHECK(s != MAP_FAILED);
	CHECK(s[0] == 0);
	pid_t c = fork();
	if (c == 0) {
		s[0] = 1234;
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	CHECK(s[0] == 1234);
	/* Mapping /dev/zero shared again is a new object. */
	int *s2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	CHECK(s2 != MAP_FAILED && s2[0] == 0);
	/* maps names a shared /dev/zero mapping "/dev/zero (deleted)". */
	char maps[65536];
	CHECK(read_text("/proc/self/maps", maps, sizeof maps) > 0);
	CHECK(strstr(maps, "/dev/zero (deleted)") != NULL);

	/* Reads and writes. */
	char buf[4096];
	memset(buf, 'x', sizeof buf);
	CHECK(read(z, buf, sizeof buf) == (ssize_t)sizeof buf && buf[0] == 0 && buf[4095] == 0);
	CHECK(write(z, buf, 100) == 100);
	CHECK(pread(z, buf, 10, 12345) == 10);
	CHECK(lseek(z, 1000, SEEK_SET) == 0);
	CHECK(lseek(z, 0, SEEK_END) == 0);

	int n = open("/dev/null", O_RDWR);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, n, 0), ENODEV);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, n, 0), ENODEV);
	CHECK(read(n, buf, sizeof buf) == 0);
	CHECK(write(n, buf, sizeof buf) == (ssize_t)sizeof buf);
	CHECK(lseek(n, 5000, SEEK_SET) == 0);
	CHECK(lseek(n, 0, SEEK_CUR) == 0);

	int f = open("/dev/full", O_RDWR);
	CHECK(f >= 0);
	memset(buf, 'x', sizeof buf);
	CHECK(read(f, buf, sizeof buf) == (ssize_t)sizeof buf && buf[0] == 0 && buf[4095] == 0);
	CHECK_ERR(write(f, "a", 1), ENOSPC);
	CHECK_ERR(write(f, "", 0), ENOSPC); /* even nothing */
	CHECK(lseek(f, 77, SEEK_SET) == 0);

	/* urandom: big reads come back whole, and are not all zero. */
	int u = open("/dev/urandom", O_RDONLY);
	static char big[1 << 20];
	CHECK(read(u, big, sizeof big) == (ssize_t)sizeof big);
	int nonzero = 0;
	for (int i = 0; i < 4096; i++)
		nonzero += big[i] != 0;
	CHECK(nonzero > 3000);
	/* Writing to /dev/urandom (mixing in entropy) is allowed. */
	int uw = open("/dev/urandom", O_WRONLY);
	CHECK(uw >= 0 && write(uw, "seed", 4) == 4);
	DONE();
}

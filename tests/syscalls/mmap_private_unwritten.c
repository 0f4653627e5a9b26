/* A private file mapping: a written page is the process's own copy; the pages it has not
 * written still show the file, including changes made to the file afterwards (Linux maps the
 * page cache until the first write); a private write never reaches the file. Also for a file
 * of the root file system: writing one page of a private mapping of a program leaves its
 * other pages equal to the file, and the file unchanged. */
#include "check.h"
#include <sys/mman.h>

#define PAGES 32

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	scratch_init("mpriv");
	int fd = open(S("f"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	char *buf = malloc(PAGES * page);
	for (int i = 0; i < PAGES; i++)
		memset(buf + i * page, 'a' + i % 26, page);
	CHECK(write(fd, buf, PAGES * page) == PAGES * page);
	char *m = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	/* Fault everything in, then write one page. */
	long sum = 0;
	for (int i = 0; i < PAGES; i++)
		sum += m[i * page];
	CHECK(sum > 0);
	m[3 * page] = 'X';
	/* The file changes in the written page and in unwritten ones, near and far. */
	int changed[] = {2, 3, 4, 5, 20};
	for (unsigned k = 0; k < sizeof changed / sizeof *changed; k++)
		CHECK(pwrite(fd, "Z", 1, changed[k] * page + 7) == 1);
	CHECK(m[3 * page] == 'X');       /* our copy */
	CHECK(m[3 * page + 7] == 'a' + 3); /* a copy: the file's later change not seen */
	CHECK(m[2 * page + 7] == 'Z');
	CHECK(m[4 * page + 7] == 'Z');
	CHECK(m[5 * page + 7] == 'Z');
	CHECK(m[20 * page + 7] == 'Z');
	CHECK(m[6 * page + 7] == 'a' + 6);
	/* The file never saw the private write. */
	char c;
	CHECK(pread(fd, &c, 1, 3 * page) == 1 && c == 'a' + 3);
	munmap(m, PAGES * page);
	close(fd);

	/* A program of the root file system, mapped private and writable. */
	int pfd = open("/proc/self/exe", O_RDONLY);
	CHECK(pfd >= 0);
	struct stat st;
	CHECK_OK(fstat(pfd, &st));
	long n = st.st_size / page;
	if (n > 16)
		n = 16;
	CHECK(n >= 2);
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
	CHECK(p != MAP_FAILED);
	char *want = malloc(n * page);
	CHECK(pread(pfd, want, n * page, 0) == n * page);
	p[page + 1] ^= 0x55;
	CHECK(p[page + 1] == (char)(want[page + 1] ^ 0x55));
	int same = 1;
	for (long i = 0; i < n * page; i++)
		if (i != page + 1 && p[i] != want[i])
			same = 0;
	CHECK(same);
	char again[64];
	CHECK(pread(pfd, again, sizeof again, page) == sizeof again);
	CHECK(memcmp(again, want + page, sizeof again) == 0);
	scratch_cleanup();
	DONE();
}

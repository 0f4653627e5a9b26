/* Shrinking a file removes the pages past its new end from every mapping, even pages already
 * touched: a later access there is SIGBUS (Linux's unmap_mapping_range). */
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	char name[64];
	snprintf(name, sizeof name, "/dev/shm/truncate-mapped-%d", getpid());
	int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	unlink(name);
	CHECK_OK(ftruncate(fd, 8192));
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	p[4096] = 'x'; /* the second page is now mapped */
	CHECK_OK(ftruncate(fd, 4096));
	pid_t c = fork();
	if (c == 0) {
		volatile char x = p[4096];
		(void)x;
		_exit(0);
	}
	int s;
	CHECK(waitpid(c, &s, 0) == c && WIFSIGNALED(s) && WTERMSIG(s) == SIGBUS);
	/* Growing it again gives zeroes, not the old byte. */
	CHECK_OK(ftruncate(fd, 8192));
	CHECK(p[4096] == 0);
	DONE();
}

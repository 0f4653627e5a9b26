/* File mappings: a private mapping sees the file until it writes a page (then that page is
 * its own copy, and later file changes do not show there), other pages keep following the
 * file; which open modes allow which mappings (EACCES; O_APPEND is no bar), mprotect's limits on a shared
 * mapping of a read-only file, mmap of a directory (ENODEV) or an O_PATH fd (EBADF), bytes
 * past EOF in the last page are zero and pages past it raise SIGBUS with BUS_ADRERR. */
#include "check.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile void *bus_addr;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	bus_addr = si->si_addr;
	bus_code = si->si_code;
	siglongjmp(jb, 1);
}

/* Read one byte at p: 0 if it raised SIGBUS, 1 if it did not. */
static int touch(volatile char *p)
{
	if (sigsetjmp(jb, 1))
		return 0;
	(void)*p;
	return 1;
}

int main(void)
{
	scratch_init("mmapmodes");
	const long pg = 4096;
	char *page = malloc(pg);
	int fd = open(S("f"), O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	memset(page, 'a', pg);
	CHECK(write(fd, page, pg) == pg);
	memset(page, 'b', pg);
	CHECK(write(fd, page, pg) == pg);

	/* Private: follows the file until written. */
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(p[0] == 'a' && p[pg] == 'b');
	CHECK(pwrite(fd, "A", 1, 0) == 1);
	CHECK(p[0] == 'A');
	p[1] = 'x'; /* page 0 is now private */
	char c;
	CHECK(pread(fd, &c, 1, 1) == 1 && c == 'a');
	CHECK(pwrite(fd, "Z", 1, 2) == 1);
	CHECK(p[2] == 'a' && p[0] == 'A' && p[1] == 'x');
	CHECK(pwrite(fd, "B", 1, pg) == 1);
	CHECK(p[pg] == 'B'); /* page 1 still the file's */
	/* A shared mapping of the same file sees the file, not the private copy. */
	char *s = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(s != MAP_FAILED);
	CHECK(s[1] == 'a' && s[2] == 'Z');
	s[pg + 1] = 'S';
	CHECK(p[pg + 1] == 'S');
	CHECK(pread(fd, &c, 1, pg + 1) == 1 && c == 'S');
	munmap(s, 2 * pg);
	munmap(p, 2 * pg);

	/* Open modes against mapping kinds. */
	int ro = open(S("f"), O_RDONLY), wo = open(S("f"), O_WRONLY), ap = open(S("f"), O_RDWR | O_APPEND);
	CHECK(ro >= 0 && wo >= 0 && ap >= 0);
	CHECK_ERR(mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 'q'; /* its own copy */
	CHECK(pread(fd, &c, 1, 0) == 1 && c == 'A');
	munmap(p, pg);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_SHARED, wo, 0), EACCES);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
	/* O_APPEND does not stop a shared writable mapping (only the append-only attribute). */
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, pg);
	/* mprotect cannot add write to a shared mapping of a read-only open; private can. */
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(p != MAP_FAILED);
	CHECK_ERR(mprotect(p, pg, PROT_READ | PROT_WRITE), EACCES);
	munmap(p, pg);
	p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, ro, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(mprotect(p, pg, PROT_READ | PROT_WRITE));
	munmap(p, pg);
	/* Closing the fd keeps the mapping. */
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, ro, 0);
	close(ro);
	CHECK(p != MAP_FAILED && p[0] == 'A');
	munmap(p, pg);
	close(wo);
	close(ap);

	/* Not mappable. */
	int d = open(scratch_base(), O_RDONLY | O_DIRECTORY);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, d, 0), ENODEV);
	close(d);
	int op = open(S("f"), O_PATH);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, op, 0), EBADF);
	close(op);
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);

	/* Past EOF: the rest of the last page reads zero, the next page is SIGBUS. */
	CHECK_OK(ftruncate(fd, pg + 100));
	struct sigaction sa = {0};
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, 3 * pg, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(touch(p + pg + 99) && p[pg + 99] == 'b');
	CHECK(touch(p + pg + 100) && p[pg + 100] == 0 && p[2 * pg - 1] == 0);
	CHECK(touch(p + 2 * pg + 5) == 0);
	CHECK(bus_addr == p + 2 * pg + 5 && bus_code == BUS_ADRERR);
	/* Growing the file makes the page readable. */
	CHECK_OK(ftruncate(fd, 3 * pg));
	CHECK(touch(p + 2 * pg + 5) && p[2 * pg + 5] == 0);
	munmap(p, 3 * pg);
	/* A mapping that starts past EOF maps, but faults. */
	p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 8 * pg);
	CHECK(p != MAP_FAILED);
	CHECK(touch(p) == 0);
	munmap(p, pg);

	close(fd);
	scratch_cleanup();
	DONE();
}

/* Copy-on-write under threads: while one thread forks children that scribble over their copies
 * and exit at once, another writes to the parent's pages (each write after a fork copies the
 * page) and a third reads them without pause. The reader must always see the parent's data:
 * a page's old frame may be freed by the exiting child only after no mapping of the parent
 * shows it any more (else the reader sees zeroes, or a child's 0xee, through a stale mapping). */
#include "check.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define PAGES 16
#define SECONDS 2.0

static unsigned char (*pages)[4096];
static atomic_int stop;
static atomic_long bad, reads, writes, forks;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t magic(int i) { return 0x5a5a000000000000ull | (uint64_t)(i + 1); }

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		for (int i = 0; i < PAGES; i++) {
			uint64_t v = *(volatile uint64_t *)pages[i];
			if (v != magic(i) && atomic_fetch_add(&bad, 1) < 3)
				fprintf(stderr, "page %d reads %#llx\n", i, (unsigned long long)v);
		}
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	for (uint64_t n = 0; !atomic_load(&stop); n++) {
		for (int i = 0; i < PAGES; i++)
			((volatile uint64_t *)pages[i])[1] = n;
		atomic_fetch_add(&writes, 1);
	}
	return NULL;
}

static void *forker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pid_t c = fork();
		if (c == 0) {
			/* Fresh memory written all over (frames freed by others are reused here),
			 * and our copies of the pages overwritten. */
			size_t len = 64 * 4096;
			unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m != MAP_FAILED)
				memset(m, 0xee, len);
			for (int i = 0; i < PAGES; i++)
				memset(pages[i], 0xee, 4096);
			_exit(0);
		}
		int st;
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			CHECK(!"child ran");
			break;
		}
		atomic_fetch_add(&forks, 1);
	}
	return NULL;
}

int main(void)
{
	pages = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(pages != MAP_FAILED);
	for (int i = 0; i < PAGES; i++) {
		memset(pages[i], 0, 4096);
		*(uint64_t *)pages[i] = magic(i);
	}
	pthread_t t[3];
	void *(*fns[3])(void *) = { reader, writer, forker };
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, fns[i], NULL) == 0);
	double end = now() + SECONDS;
	while (now() < end)
		usleep(10000);
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&bad) == 0);
	CHECK(atomic_load(&forks) > 0 && atomic_load(&reads) > 0 && atomic_load(&writes) > 0);
	for (int i = 0; i < PAGES; i++)
		CHECK(*(uint64_t *)pages[i] == magic(i));
	DONE();
}

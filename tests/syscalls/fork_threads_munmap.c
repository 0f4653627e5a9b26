/* fork() from a thread while sibling threads map, touch, protect and unmap memory: every
 * child exits 7 and every thread is joined (pthread_join waits on the CLONE_CHILD_CLEARTID
 * word the kernel clears at thread exit). Found by the platforms' stress test. */
#include "check.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

static atomic_int bad;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		char *m = mmap(NULL, 32768, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		m[0] = 1;
		m[4096] = 2;
		if (i % 4 == 0)
			mprotect(m, 32768, PROT_READ);
		if (m[0] != 1 || m[4096] != 2)
			atomic_fetch_add(&bad, 1);
		munmap(m, 32768);
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		int s;
		if (c < 0 || waitpid(c, &s, 0) != c || !WIFEXITED(s) || WEXITSTATUS(s) != 7)
			atomic_fetch_add(&bad, 1);
	}
	return NULL;
}

int main(void)
{
	alarm(20); /* a lost wake-up hangs pthread_join: fail instead of waiting for the harness */
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK(atomic_load(&bad) == 0);
	DONE();
}

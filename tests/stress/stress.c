/* Stress: 8 processes of 4 threads each (32 threads) doing syscalls, page faults, signals and
 * forks for a number of seconds (argv[1]); every result is checked. Exit 0 only if all was right.
 * The platforms' stress test (tests/e2e) runs it in the sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCS 8
#define THREADS 4

static double deadline;
static atomic_long sent, received, errors, iterations;
static pid_t tids[THREADS];
static pthread_barrier_t stop1, stop2;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void on_signal(int sig) { (void)sig; atomic_fetch_add(&received, 1); }

/* A failure is counted; the first few are printed. */
#define FAIL(...) do { if (atomic_fetch_add(&errors, 1) < 5) fprintf(stderr, __VA_ARGS__); } while (0)

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	tids[me] = (pid_t)syscall(SYS_gettid);
	unsigned seed = (unsigned)(getpid() * 31 + me);
	int p[2];
	if (pipe(p) != 0) { FAIL("pipe: %s\n", strerror(errno)); return NULL; }
	while (now() < deadline) {
		atomic_fetch_add(&iterations, 1);
		/* syscalls */
		if (syscall(SYS_gettid) != tids[me]) FAIL("gettid changed\n");
		char buf[64], back[64];
		int n = snprintf(buf, sizeof buf, "%d-%d-%u", getpid(), me, seed);
		if (write(p[1], buf, n) != n || read(p[0], back, sizeof back) != n || memcmp(buf, back, n))
			FAIL("pipe round trip\n");
		/* page faults: fresh memory, a pattern per page, read back */
		size_t len = (1 + rand_r(&seed) % 32) * 4096;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) { FAIL("mmap: %s\n", strerror(errno)); continue; }
		unsigned char tag = (unsigned char)seed;
		for (size_t o = 0; o < len; o += 4096) m[o] = (unsigned char)(o / 4096 + tag);
		if (rand_r(&seed) % 4 == 0) mprotect(m, len, PROT_READ);
		for (size_t o = 0; o < len; o += 4096)
			if (m[o] != (unsigned char)(o / 4096 + tag)) { FAIL("memory lost at page %zu\n", o / 4096); break; }
		/* now and then a fork from this thread while the siblings go on: the child sees the
		 * pattern and writes over its copy; ours stays as it was */
		if (rand_r(&seed) % 16 == 0) {
			pid_t c = fork();
			if (c == 0) {
				for (size_t o = 0; o < len; o += 4096)
					if (m[o] != (unsigned char)(o / 4096 + tag))
						_exit(1);
				mprotect(m, len, PROT_READ | PROT_WRITE);
				memset(m, 0xee, len);
				_exit(7);
			}
			int st = 0;
			if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
				FAIL("forked child: %s, status %#x\n", c < 0 ? strerror(errno) : "ended", st);
			for (size_t o = 0; o < len; o += 4096)
				if (m[o] != (unsigned char)(o / 4096 + tag)) { FAIL("child's write seen at page %zu\n", o / 4096); break; }
		}
		munmap(m, len);
		/* signals to a sibling thread (queued: every one must arrive) */
		pid_t to = tids[rand_r(&seed) % THREADS];
		if (to && syscall(SYS_tgkill, getpid(), to, SIGRTMIN) == 0)
			atomic_fetch_add(&sent, 1);
	}
	pthread_barrier_wait(&stop1);
	syscall(SYS_getpid); /* pending signals are taken on the way back */
	pthread_barrier_wait(&stop2);
	close(p[0]);
	close(p[1]);
	return NULL;
}

static int process(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigaction(SIGRTMIN, &sa, NULL);
	pthread_barrier_init(&stop1, NULL, THREADS);
	pthread_barrier_init(&stop2, NULL, THREADS);
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&sent) != atomic_load(&received))
		FAIL("signals: %ld sent, %ld received\n", atomic_load(&sent), atomic_load(&received));
	printf("pid %d: %ld iterations, %ld signals, %ld errors\n", getpid(), atomic_load(&iterations),
	       atomic_load(&received), atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 60;
	deadline = now() + secs;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t kids[PROCS];
	for (int i = 0; i < PROCS; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(process());
	}
	int bad = 0;
	for (int i = 0; i < PROCS; i++) {
		int s;
		if (waitpid(kids[i], &s, 0) != kids[i] || !WIFEXITED(s) || WEXITSTATUS(s) != 0) {
			fprintf(stderr, "process %d ended with status %#x\n", kids[i], s);
			bad++;
		}
	}
	printf("stress: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

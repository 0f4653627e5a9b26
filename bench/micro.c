/* Micro-benchmarks run natively and in each sandbox by bench/run.py.
 * Usage: micro NAME ITERATIONS   -> prints nanoseconds per iteration. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int ping_word;
static long ping_iters;
static void *futex_partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < ping_iters; i++) {
		while (__atomic_load_n(&ping_word, __ATOMIC_ACQUIRE) != 1)
			syscall(SYS_futex, &ping_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		__atomic_store_n(&ping_word, 0, __ATOMIC_RELEASE);
		syscall(SYS_futex, &ping_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static volatile int sig_seen;
static void on_sig(int s)
{
	(void)s;
	sig_seen++;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: micro NAME ITERATIONS\n");
		return 2;
	}
	const char *name = argv[1];
	long n = atol(argv[2]);
	char buf[4096];
	struct stat st;
	double t0 = now_ns();
	if (!strcmp(name, "getpid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
	} else if (!strcmp(name, "stat")) {
		for (long i = 0; i < n; i++)
			if (stat("/etc/passwd", &st))
				return 1;
	} else if (!strcmp(name, "open_read_close")) {
		for (long i = 0; i < n; i++) {
			int fd = open("/etc/passwd", O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof buf) <= 0)
				return 1;
			close(fd);
		}
	} else if (!strcmp(name, "mmap_munmap")) {
		for (long i = 0; i < n; i++) {
			void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return 1;
			munmap(p, 65536);
		}
	} else if (!strcmp(name, "mmap_touch_munmap")) {
		for (long i = 0; i < n; i++) {
			char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return 1;
			for (int j = 0; j < 65536; j += 4096)
				p[j] = 1;
			munmap(p, 65536);
		}
	} else if (!strcmp(name, "clock_gettime")) {
		struct timespec t;
		for (long i = 0; i < n; i++)
			clock_gettime(CLOCK_MONOTONIC, &t);
	} else if (!strcmp(name, "pipe_pingpong")) {
		/* One byte there and back between two processes: a round trip per iteration. */
		int a[2], b[2];
		pipe(a);
		pipe(b);
		char c = 0;
		pid_t p = fork();
		if (p == 0) {
			for (long i = 0; i < n; i++) {
				if (read(a[0], &c, 1) != 1)
					_exit(1);
				write(b[1], &c, 1);
			}
			_exit(0);
		}
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			write(a[1], &c, 1);
			if (read(b[0], &c, 1) != 1)
				return 1;
		}
		waitpid(p, NULL, 0);
	} else if (!strcmp(name, "fork_exit_wait")) {
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0)
				_exit(0);
			waitpid(p, NULL, 0);
		}
	} else if (!strcmp(name, "fork_exec_true")) {
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			waitpid(p, NULL, 0);
		}
	} else if (!strcmp(name, "futex_handoff")) {
		/* Two threads pass a token through a futex word: a handoff per iteration. */
		ping_iters = n;
		pthread_t t;
		pthread_create(&t, NULL, futex_partner, NULL);
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			__atomic_store_n(&ping_word, 1, __ATOMIC_RELEASE);
			syscall(SYS_futex, &ping_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
			while (__atomic_load_n(&ping_word, __ATOMIC_ACQUIRE) != 0)
				syscall(SYS_futex, &ping_word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
		}
		pthread_join(t, NULL);
	} else if (!strcmp(name, "signal_roundtrip")) {
		/* raise() and return from the handler. */
		signal(SIGUSR1, on_sig);
		for (long i = 0; i < n; i++)
			raise(SIGUSR1);
		if (sig_seen != n)
			return 1;
	} else if (!strcmp(name, "getdents_1000")) {
		/* List a 1,000-entry directory (made first, untimed). */
		char dir[64], p[128];
		snprintf(dir, sizeof dir, "/tmp/palisade-bench-%d", getpid());
		mkdir(dir, 0755);
		for (int i = 0; i < 1000; i++) {
			snprintf(p, sizeof p, "%s/entry-%04d", dir, i);
			close(open(p, O_CREAT | O_WRONLY, 0644));
		}
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			int fd = open(dir, O_RDONLY | O_DIRECTORY);
			long total = 0, got;
			while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
				total += got;
			close(fd);
			if (total == 0)
				return 1;
		}
		double t1 = now_ns();
		for (int i = 0; i < 1000; i++) {
			snprintf(p, sizeof p, "%s/entry-%04d", dir, i);
			unlink(p);
		}
		rmdir(dir);
		printf("%.1f\n", (t1 - t0) / n);
		return 0;
	} else if (!strcmp(name, "create_unlink")) {
		/* Create (open O_CREAT, close) and unlink a file in /tmp, per iteration. */
		char p[64];
		snprintf(p, sizeof p, "/tmp/palisade-bench-f-%d", getpid());
		for (long i = 0; i < n; i++) {
			int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (fd < 0)
				return 1;
			close(fd);
			if (unlink(p))
				return 1;
		}
	} else if (!strcmp(name, "write_1m") || !strcmp(name, "read_1m") ||
		   !strcmp(name, "random_read_4k")) {
		/* Data I/O on a tmpfs file (/dev/shm): 1 MiB sequential writes or reads in 64 KiB
		 * calls, or 4 KiB reads at random offsets of a 16 MiB file. */
		static char big[65536];
		char p[64];
		snprintf(p, sizeof p, "/dev/shm/palisade-bench-%d", getpid());
		int fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
		if (fd < 0)
			return 1;
		for (int i = 0; i < 256; i++)
			if (write(fd, big, sizeof big) != sizeof big)
				return 1;
		unsigned seed = 1;
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (name[0] == 'w') {
				for (int k = 0; k < 16; k++)
					if (pwrite(fd, big, sizeof big, k * 65536L) != sizeof big)
						return 1;
			} else if (name[0] == 'r' && name[1] == 'e') {
				for (int k = 0; k < 16; k++)
					if (pread(fd, big, sizeof big, k * 65536L) != sizeof big)
						return 1;
			} else {
				seed = seed * 1103515245 + 12345;
				if (pread(fd, big, 4096, (seed >> 8) % 4096 * 4096L) != 4096)
					return 1;
			}
		}
		double t1 = now_ns();
		close(fd);
		unlink(p);
		printf("%.1f\n", (t1 - t0) / n);
		return 0;
	} else {
		fprintf(stderr, "unknown benchmark %s\n", name);
		return 2;
	}
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}

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
#include <time.h>
#include <unistd.h>

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
	} else {
		fprintf(stderr, "unknown benchmark %s\n", name);
		return 2;
	}
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}

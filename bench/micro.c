/* Micro-benchmarks run natively and in each sandbox by bench/run.py.
 * Usage: micro NAME ITERATIONS   -> prints nanoseconds per iteration. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
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

/* A TCP listener on ADDR (port 0: any), its port in *port. */
static int tcp_listener(const char *addr, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port)};
	inet_pton(AF_INET, addr, &a.sin_addr);
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, addr, &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	for (int i = 0; i < 200; i++) { /* the server may still be starting */
		if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
			return s;
		close(s);
		usleep(20000);
		s = socket(AF_INET, SOCK_STREAM, 0);
	}
	return -1;
}

/* Send MIB mebibytes on S in 64 KiB writes, then close. */
static int send_mib(int s, long mib)
{
	static char chunk[65536];
	for (long i = 0; i < mib * 16; i++)
		for (size_t off = 0; off < sizeof chunk;) {
			ssize_t w = write(s, chunk + off, sizeof chunk - off);
			if (w <= 0)
				return 1;
			off += w;
		}
	return close(s);
}

/* Read S to its end; the byte count. */
static long drain(int s)
{
	static char chunk[65536];
	long total = 0;
	ssize_t r;
	while ((r = read(s, chunk, sizeof chunk)) > 0)
		total += r;
	return r < 0 ? -1 : total;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: micro NAME ITERATIONS\n");
		return 2;
	}
	const char *name = argv[1];
	long n = atol(argv[2]);
	if (!strcmp(name, "tcp_sink")) {
		/* Host side of the veth benchmark: micro tcp_sink PORT [ADDR]; prints "listening",
		 * then, after one connection has sent its all, MiB/s from accept to end of stream. */
		int port = (int)n;
		int l = tcp_listener(argc > 3 ? argv[3] : "0.0.0.0", &port);
		if (l < 0)
			return 1;
		printf("listening %d\n", port);
		fflush(stdout);
		int c = accept(l, NULL, NULL);
		double t = now_ns();
		long got = drain(c);
		if (got <= 0)
			return 1;
		printf("%.1f\n", got / 1048576.0 / ((now_ns() - t) / 1e9));
		return 0;
	}
	if (!strcmp(name, "tcp_send")) {
		/* micro tcp_send MIB ADDR PORT: the sandboxed sender of the veth benchmark. */
		if (argc < 5)
			return 2;
		int s = tcp_connect(argv[3], atoi(argv[4]));
		return s < 0 || send_mib(s, n);
	}
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
	} else if (!strcmp(name, "tcp_stream")) {
		/* N MiB from one process to another over loopback TCP; prints MiB/s (the receiver's
		 * view: accept to end of stream). */
		int port = 0;
		int l = tcp_listener("127.0.0.1", &port);
		if (l < 0)
			return 1;
		pid_t p = fork();
		if (p == 0)
			_exit(send_mib(tcp_connect("127.0.0.1", port), n));
		int c = accept(l, NULL, NULL);
		t0 = now_ns();
		long got = drain(c);
		double t1 = now_ns();
		int status;
		waitpid(p, &status, 0);
		if (got != n * 1048576L || status != 0)
			return 1;
		printf("%.1f\n", n / ((t1 - t0) / 1e9));
		return 0;
	} else if (!strcmp(name, "tcp_rr")) {
		/* 64-byte request, 64-byte response between two processes over loopback TCP
		 * (TCP_NODELAY): a round trip per iteration. */
		int port = 0, one = 1;
		int l = tcp_listener("127.0.0.1", &port);
		if (l < 0)
			return 1;
		pid_t p = fork();
		if (p == 0) {
			int c = accept(l, NULL, NULL);
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			for (long i = 0; i < n; i++) {
				for (int got = 0; got < 64;) {
					ssize_t r = read(c, buf + got, 64 - got);
					if (r <= 0)
						_exit(1);
					got += r;
				}
				if (write(c, buf, 64) != 64)
					_exit(1);
			}
			_exit(0);
		}
		int s = tcp_connect("127.0.0.1", port);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (write(s, buf, 64) != 64)
				return 1;
			for (int got = 0; got < 64;) {
				ssize_t r = read(s, buf + got, 64 - got);
				if (r <= 0)
					return 1;
				got += r;
			}
		}
		double t1 = now_ns();
		int status;
		waitpid(p, &status, 0);
		if (status != 0)
			return 1;
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

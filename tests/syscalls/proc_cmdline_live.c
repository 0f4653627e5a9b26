/* /proc/<pid>/cmdline and environ are read from the process's memory, as ps sees them:
 * overwriting argv in place (setproctitle) shows in cmdline, for the process itself and
 * for others reading it; a NUL-terminated rewrite of argv[0] that ends early shows only
 * that; environ follows its memory too; a zombie's cmdline is empty. */
#include "check.h"
#include <sys/wait.h>

static int read_all(const char *path, char *buf, int n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int got = 0, r;
	while (got < n && (r = read(fd, buf + got, n - got)) > 0)
		got += r;
	close(fd);
	return got;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "child") == 0) {
		/* Rename ourselves in place: "child" -> "CHILD", and argv[2] to "x\0..." */
		memcpy(argv[1], "CHILD", 5);
		size_t l = strlen(argv[2]);
		memset(argv[2], 0, l);
		argv[2][0] = 'x';
		char c;
		if (read(0, &c, 1) != 1) /* wait for the parent to look */
			return 1;
		return 0;
	}
	char buf[4096];
	/* Our own cmdline: argv as exec gave it. */
	int n = read_all("/proc/self/cmdline", buf, sizeof buf);
	CHECK(n > 0 && strcmp(buf, argv[0]) == 0);

	/* Overwrite argv[0] in place: the file follows. */
	size_t l0 = strlen(argv[0]);
	char saved[4096];
	memcpy(saved, argv[0], l0 + 1);
	memset(argv[0], 'Z', l0);
	n = read_all("/proc/self/cmdline", buf, sizeof buf);
	CHECK(n == (int)l0 + 1);
	CHECK(buf[0] == 'Z' && buf[l0 - 1] == 'Z' && buf[l0] == 0);
	memcpy(argv[0], saved, l0 + 1);

	/* environ too. */
	setenv("PALISADE_PROBE", "1", 1); /* (a copy on the heap, not the original area) */
	extern char **environ;
	char *first = NULL;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "PALISADE_PROBE", 14) != 0) {
			first = *e;
			break;
		}
	n = read_all("/proc/self/environ", buf, sizeof buf);
	CHECK(n > 0);
	if (first && n > 0) {
		char was = first[0];
		/* Find it in the file, flip it in memory, read again. */
		char *at = memmem(buf, n, first, strlen(first));
		CHECK(at != NULL);
		first[0] = '#';
		int n2 = read_all("/proc/self/environ", buf, sizeof buf);
		CHECK(n2 == n);
		if (at)
			CHECK(buf[at - buf] == '#');
		first[0] = was;
	}

	/* Another process's cmdline, renamed by itself. */
	int p[2];
	CHECK_OK(pipe(p));
	pid_t c = fork();
	if (c == 0) {
		dup2(p[0], 0);
		close(p[1]);
		execl("/proc/self/exe", argv[0], "child", "some-long-argument", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", c);
	int ok = 0;
	for (int i = 0; i < 200 && !ok; i++) {
		n = read_all(path, buf, sizeof buf);
		/* argv[0] NUL "CHILD" NUL "x" NUL (the rest of argv[2] zeros). */
		size_t a0 = strlen(argv[0]) + 1;
		ok = n > (int)(a0 + 6) && memcmp(buf + a0, "CHILD\0x\0", 8) == 0;
		if (!ok)
			usleep(10000);
	}
	CHECK(ok);
	/* The zeros after "x" are still part of the area: the file keeps its length. */
	CHECK(n == (int)(strlen(argv[0]) + 1 + 6 + strlen("some-long-argument") + 1));
	CHECK(write(p[1], "g", 1) == 1);
	/* A zombie has no memory: an empty cmdline. */
	usleep(100000);
	n = read_all(path, buf, sizeof buf);
	CHECK(n == 0);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

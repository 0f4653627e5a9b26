/* /proc/<pid> files programs rely on: stat and status agree with the ids syscalls report and
 * with the process's state (stopped, zombie) and thread count; cmdline and environ are the
 * strings the process was started with; comm follows PR_SET_NAME; statm is consistent; fd/
 * links name open files; cwd and root; maps covers the stack and code with the right
 * permissions. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* Field `n` (1-based, as proc(5)) of /proc/<pid>/stat, after the comm. */
static long stat_field(pid_t pid, int n, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_text(path, buf, sizeof buf) <= 0)
		return -1;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; /* field 3 */
	if (state)
		*state = *p;
	for (int i = 3; i < n; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return atol(p);
}

static long status_field(pid_t pid, const char *key)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_text(path, buf, sizeof buf) <= 0)
		return -1;
	char *p = strstr(buf, key);
	return p ? atol(p + strlen(key)) : -1;
}

static void *sleeper(void *a)
{
	(void)a;
	pause();
	return NULL;
}

static int in_mapping(void *addr, const char *perms)
{
	char buf[65536];
	if (read_text("/proc/self/maps", buf, sizeof buf) <= 0)
		return 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long lo, hi;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && (unsigned long)addr >= lo &&
		    (unsigned long)addr < hi)
			return strncmp(p, perms, strlen(perms)) == 0;
	}
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	pid_t me = getpid();
	char st;
	CHECK(stat_field(me, 4, &st) == getppid());
	CHECK(st == 'R' || st == 'S');
	CHECK(stat_field(me, 5, NULL) == getpgrp());
	CHECK(stat_field(me, 6, NULL) == getsid(0));
	CHECK(stat_field(me, 20, NULL) == 1);
	CHECK(status_field(me, "Pid:\t") == me);
	CHECK(status_field(me, "PPid:\t") == getppid());
	CHECK(status_field(me, "Uid:\t") == getuid());
	CHECK(status_field(me, "Threads:\t") == 1);
	pthread_t t;
	pthread_create(&t, NULL, sleeper, NULL);
	usleep(20000);
	CHECK(stat_field(me, 20, NULL) == 2);
	CHECK(status_field(me, "Threads:\t") == 2);

	/* cmdline and environ: the strings, NUL-separated. */
	char buf[65536], want[65536];
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(want + n, argv[i], l);
		n += l;
	}
	CHECK(read_text("/proc/self/cmdline", buf, sizeof buf) == (int)n && memcmp(buf, want, n) == 0);
	n = 0;
	for (char **e = envp; *e && n < sizeof want - 4096; e++) {
		size_t l = strlen(*e) + 1;
		memcpy(want + n, *e, l);
		n += l;
	}
	CHECK(read_text("/proc/self/environ", buf, sizeof buf) == (int)n && memcmp(buf, want, n) == 0);

	/* comm follows PR_SET_NAME. */
	CHECK_OK(prctl(PR_SET_NAME, "renamed-proc"));
	CHECK(read_text("/proc/self/comm", buf, sizeof buf) > 0 && strcmp(buf, "renamed-proc\n") == 0);
	CHECK(read_text("/proc/self/stat", buf, sizeof buf) > 0 && strstr(buf, "(renamed-proc)") != NULL);

	/* limits: the soft and hard limits of getrlimit, in proc(5)'s layout. */
	struct rlimit rl = {77, 99};
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK(read_text("/proc/self/limits", buf, sizeof buf) > 0);
	CHECK(strncmp(buf, "Limit                     Soft Limit           Hard Limit           Units",
		      72) == 0);
	char *nofile = strstr(buf, "Max open files");
	long soft = 0, hard = 0;
	CHECK(nofile && sscanf(nofile + 25, "%ld %ld", &soft, &hard) == 2);
	CHECK(soft == 77 && hard == 99);
	CHECK(strstr(buf, "Max cpu time              unlimited") != NULL);

	/* statm: size >= resident > 0. */
	long size, rss;
	CHECK(read_text("/proc/self/statm", buf, sizeof buf) > 0);
	CHECK(sscanf(buf, "%ld %ld", &size, &rss) == 2 && size >= rss && rss > 0);

	/* fd/ links. */
	int fd = open("/etc/passwd", O_RDONLY);
	char path[64], target[256];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(path, target, sizeof target - 1);
	CHECK(l > 0);
	target[l > 0 ? l : 0] = 0;
	CHECK(strcmp(target, "/etc/passwd") == 0);
	int p[2];
	CHECK_OK(pipe(p));
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	l = readlink(path, target, sizeof target - 1);
	target[l > 0 ? l : 0] = 0;
	CHECK(strncmp(target, "pipe:[", 6) == 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", 900);
	CHECK_ERR(readlink(path, target, sizeof target), ENOENT);

	/* cwd and root. */
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	l = readlink("/proc/self/cwd", target, sizeof target - 1);
	target[l > 0 ? l : 0] = 0;
	CHECK(strcmp(target, cwd) == 0);
	l = readlink("/proc/self/root", target, sizeof target - 1);
	target[l > 0 ? l : 0] = 0;
	CHECK(strcmp(target, "/") == 0);

	/* maps: our stack is rw, our code r-x and named by our executable's path. */
	int local = 0;
	CHECK(in_mapping(&local, "rw"));
	CHECK(in_mapping((void *)main, "r-x"));
	char exe[256], maps[65536];
	l = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[l > 0 ? l : 0] = 0;
	CHECK(read_text("/proc/self/maps", maps, sizeof maps) > 0);
	char needle[300];
	snprintf(needle, sizeof needle, " %s\n", exe);
	CHECK(strstr(maps, needle) != NULL);
	CHECK(strstr(maps, " [stack]\n") != NULL);

	/* A stopped child is T; a zombie is Z. */
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	usleep(20000);
	kill(c, SIGSTOP);
	int ws;
	waitpid(c, &ws, WUNTRACED);
	CHECK(stat_field(c, 4, &st) == me && st == 'T');
	kill(c, SIGKILL);
	usleep(50000);
	CHECK(stat_field(c, 3, &st) >= 0 && st == 'Z');
	waitpid(c, &ws, 0);
	CHECK(stat_field(c, 3, NULL) == -1);
	DONE();
}

/* /proc/<pid>/task: one directory per thread, named by tid, each showing that thread (its comm,
 * its stat line with its tid, its status with Pid: tid); thread names are per thread
 * (PR_SET_NAME and writes to task/<tid>/comm), /proc/<tid> reaches a thread that readdir of
 * /proc does not list, /proc/thread-self names the calling thread, and a joined thread's
 * directory is gone. */
#include "check.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/prctl.h>

static pthread_barrier_t ready, done;
static pid_t tids[3];

static void *worker(void *arg)
{
	long i = (long)arg;
	tids[i] = gettid();
	char name[16];
	snprintf(name, sizeof name, "worker-%ld", i);
	prctl(PR_SET_NAME, name);
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&done);
	return NULL;
}

static int listed(const char *dir, pid_t want)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (atoi(e->d_name) == want)
			found = 1;
	closedir(d);
	return found;
}

static int count_numeric(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

/* The value of "Key:\t<n>" in a status file, or -1. */
static long status_num(const char *path, const char *key)
{
	char buf[8192];
	if (read_text(path, buf, sizeof buf) <= 0)
		return -1;
	char *p = strstr(buf, key);
	return p ? atol(p + strlen(key)) : -1;
}

int main(void)
{
	pid_t me = getpid();
	char path[128], buf[4096];
	CHECK_OK(prctl(PR_SET_NAME, "main-thread"));
	pthread_barrier_init(&ready, NULL, 4);
	pthread_barrier_init(&done, NULL, 4);
	pthread_t th[3];
	for (long i = 0; i < 3; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
	pthread_barrier_wait(&ready);

	/* task/ lists exactly the four threads. */
	CHECK(count_numeric("/proc/self/task") == 4);
	CHECK(listed("/proc/self/task", me) == 1);
	for (int i = 0; i < 3; i++)
		CHECK(listed("/proc/self/task", tids[i]) == 1);

	/* Each thread's own name; the process's comm is the main thread's. */
	CHECK(read_text("/proc/self/comm", buf, sizeof buf) > 0 && strcmp(buf, "main-thread\n") == 0);
	for (int i = 0; i < 3; i++) {
		char want[32];
		snprintf(want, sizeof want, "worker-%d\n", i);
		snprintf(path, sizeof path, "/proc/self/task/%d/comm", tids[i]);
		CHECK(read_text(path, buf, sizeof buf) > 0 && strcmp(buf, want) == 0);
		/* stat: the tid first, the thread's name, the process's parent. */
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", tids[i]);
		CHECK(read_text(path, buf, sizeof buf) > 0);
		int pid = 0, ppid = 0;
		char name[32] = "", st = 0;
		CHECK(sscanf(buf, "%d (%31[^)]) %c %d", &pid, name, &st, &ppid) == 4);
		CHECK(pid == tids[i] && strlen(name) + 1 == strlen(want) && strncmp(name, want, strlen(name)) == 0);
		CHECK(ppid == getppid());
		/* status: Pid is the thread, Tgid the process. */
		snprintf(path, sizeof path, "/proc/self/task/%d/status", tids[i]);
		CHECK(status_num(path, "\nPid:\t") == tids[i]);
		CHECK(status_num(path, "\nTgid:\t") == me);
		CHECK(status_num(path, "\nThreads:\t") == 4);
	}
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", me);
	CHECK(read_text(path, buf, sizeof buf) > 0 && strcmp(buf, "main-thread\n") == 0);

	/* pthread_setname_np writes task/<tid>/comm; names longer than 15 bytes are refused by
	 * glibc, but a write of the file truncates. */
	CHECK(pthread_setname_np(th[1], "renamed") == 0);
	char got[16];
	CHECK(pthread_getname_np(th[1], got, sizeof got) == 0 && strcmp(got, "renamed") == 0);
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tids[2]);
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(write(fd, "a-very-long-thread-name", 23) == 23);
	close(fd);
	CHECK(read_text(path, buf, sizeof buf) > 0 && strcmp(buf, "a-very-long-thr\n") == 0);
	CHECK(read_text("/proc/self/comm", buf, sizeof buf) > 0 && strcmp(buf, "main-thread\n") == 0);

	/* /proc/<tid>: reachable, not listed; it shows the thread. */
	snprintf(path, sizeof path, "/proc/%d/status", tids[0]);
	CHECK(status_num(path, "\nPid:\t") == tids[0]);
	CHECK(status_num(path, "\nTgid:\t") == me);
	CHECK(listed("/proc", tids[0]) == 0);
	CHECK(listed("/proc", me) == 1);

	/* thread-self is "<pid>/task/<tid>" of the caller. */
	char want[64];
	snprintf(want, sizeof want, "%d/task/%d", me, me);
	ssize_t n = readlink("/proc/thread-self", buf, sizeof buf - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, want) == 0));

	pthread_barrier_wait(&done);
	for (int i = 0; i < 3; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	/* A joined thread may still be finishing its exit (pthread_join returns when its tid
	 * word is cleared, before the kernel releases it, natively too): allow it a moment. */
	int left = count_numeric("/proc/self/task");
	for (int i = 0; i < 100 && left != 1; i++) {
		usleep(10000);
		left = count_numeric("/proc/self/task");
	}
	CHECK(left == 1);
	snprintf(path, sizeof path, "/proc/self/task/%d", tids[0]);
	struct stat st;
	CHECK_ERR(stat(path, &st), ENOENT);
	DONE();
}

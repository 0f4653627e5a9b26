/* procfs files programs read: cpuinfo, filesystems, sys/kernel/random, <pid>/fdinfo, task/,
 * mountinfo. */
#include "check.h"
#include <pthread.h>

static volatile int stop;
static pid_t thread_tid;
static void *worker(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	static char buf[65536];
	CHECK(read_text("/proc/cpuinfo", buf, sizeof buf) > 0);
	CHECK(strstr(buf, "processor\t: 0\n") != NULL && strstr(buf, "vendor_id") != NULL);
	CHECK(strstr(buf, "\nflags\t\t: ") != NULL && strstr(buf, " sse2") != NULL);
	CHECK(read_text("/proc/filesystems", buf, sizeof buf) > 0);
	CHECK(strstr(buf, "\ttmpfs\n") != NULL && strstr(buf, "nodev\tproc\n") != NULL);

	char a[64], b[64], c[64], d[64];
	CHECK(read_text("/proc/sys/kernel/random/uuid", a, sizeof a) == 37);
	CHECK(read_text("/proc/sys/kernel/random/uuid", b, sizeof b) == 37);
	CHECK(strcmp(a, b) != 0 && a[8] == '-' && a[14] == '4');
	CHECK(read_text("/proc/sys/kernel/random/boot_id", c, sizeof c) == 37);
	CHECK(read_text("/proc/sys/kernel/random/boot_id", d, sizeof d) == 37);
	CHECK(strcmp(c, d) == 0);

	/* fdinfo: position and flags of a descriptor. */
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(lseek(fd, 5, SEEK_SET) == 5);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	CHECK(read_text(path, buf, sizeof buf) > 0);
	CHECK(strncmp(buf, "pos:\t5\n", 7) == 0);
	char *fl = strstr(buf, "flags:\t");
	CHECK(fl != NULL && (strtol(fl + 7, NULL, 8) & O_CLOEXEC) != 0);
	CHECK(strstr(buf, "mnt_id:\t") != NULL);
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", 999);
	CHECK_ERR(open(path, O_RDONLY), ENOENT);
	close(fd);

	/* task/: one directory per thread. */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, worker, NULL) == 0);
	while (!thread_tid)
		usleep(1000);
	snprintf(path, sizeof path, "/proc/self/task/%d", getpid());
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISDIR(st.st_mode));
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", thread_tid);
	CHECK(read_text(path, buf, sizeof buf) > 0);
	snprintf(path, sizeof path, "/proc/self/task/%d", 99999);
	CHECK_ERR(stat(path, &st), ENOENT);
	stop = 1;
	pthread_join(th, NULL);

	/* mountinfo has the root and /proc. */
	CHECK(read_text("/proc/self/mountinfo", buf, sizeof buf) > 0);
	CHECK(strstr(buf, " / / ") != NULL && strstr(buf, " /proc ") != NULL);
	CHECK(strstr(buf, " - proc ") != NULL);
	return failures != 0;
}

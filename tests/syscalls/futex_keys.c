/* What a futex is keyed by. Shared futexes in private memory are keyed by address space and
 * address, not by the page behind them: a fork that makes the page copy-on-write must not lose
 * the clear-child-tid wake pthread_join waits for. Private and shared waits on one word are
 * different futexes; shared memory meets across processes. */
#include "check.h"
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static long fx(int *a, int op, int v, const struct timespec *ts)
{
	return syscall(SYS_futex, a, op, v, ts, NULL, 0);
}

/* Whether thread `tid` of process `pid` sleeps (in a futex wait, here). */
static int sleeping(pid_t pid, pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void wait_sleeping(pid_t pid, pid_t tid)
{
	for (int i = 0; i < 2000 && !sleeping(pid, tid); i++)
		usleep(1000);
	usleep(20000); /* from S to queued on the futex */
}

static int *ctid_word;
static volatile int thread_go;

/* A bare CLONE_THREAD thread (no libc state of its own): wait for the go, give the parent
 * time to start waiting, exit. */
static int bare_thread(void *arg)
{
	(void)arg;
	while (!thread_go)
		;
	struct timespec ts = { 0, 100000000 };
	syscall(SYS_nanosleep, &ts, NULL);
	syscall(SYS_exit, 0);
	return 0;
}

static int *priv_word;
static volatile long priv_result = -2;
static volatile pid_t priv_tid;

static int private_waiter(void *arg)
{
	(void)arg;
	priv_tid = syscall(SYS_gettid);
	struct timespec ts = { 5, 0 };
	priv_result = syscall(SYS_futex, priv_word, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
	syscall(SYS_exit, 0);
	return 0;
}

int main(void)
{
	const int threadflags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				CLONE_SYSVSEM;

	/* 1. clear-child-tid across a fork: the word's page is copy-on-write when the thread
	 * exits; the shared wait on it (what pthread_join does) is still woken. */
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED);
	ctid_word = (int *)(page + 64);
	char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(stack != MAP_FAILED);
	int tid = clone(bare_thread, stack + 65536,
			threadflags | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, NULL, ctid_word,
			NULL, ctid_word);
	CHECK(tid > 0);
	CHECK(*(volatile int *)ctid_word == tid);
	pid_t child = fork();
	if (child == 0) {
		usleep(300000);
		_exit(*(volatile int *)ctid_word == tid ? 0 : 1); /* the child's copy keeps the tid */
	}
	CHECK(child > 0);
	thread_go = 1;
	struct timespec two = { 2, 0 };
	long r = fx(ctid_word, FUTEX_WAIT, tid, &two);
	CHECK(r == 0);
	CHECK(*(volatile int *)ctid_word == 0);
	int st;
	CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* 2. A private wait and a shared wake on the same word of private memory are different
	 * futexes (and the other way round). */
	priv_word = (int *)(page + 128);
	*priv_word = 1;
	tid = clone(private_waiter, stack + 65536,
		    threadflags | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, NULL, ctid_word, NULL,
		    ctid_word);
	CHECK(tid > 0);
	wait_sleeping(getpid(), tid);
	/* "Sleeping" may come a little before the wait is queued (a loaded machine): the shared
	 * wake must never find it; the private one is tried until it does (the wait lasts 5 s). */
	long woken = 0;
	for (int i = 0; i < 100 && woken == 0; i++) {
		CHECK(fx(priv_word, FUTEX_WAKE, 1, NULL) == 0);
		woken = fx(priv_word, FUTEX_WAKE_PRIVATE, 1, NULL);
		if (woken == 0)
			usleep(20000);
	}
	CHECK(woken == 1);
	while (*(volatile int *)ctid_word != 0)
		fx(ctid_word, FUTEX_WAIT, tid, NULL);
	if (priv_result != 0)
		fprintf(stderr, "private wait returned %ld\n", priv_result);
	CHECK(priv_result == 0);

	/* 3. Shared memory: a shared wake from another process wakes the waiter; a private one
	 * does not (it names the waker's own address space). */
	int *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shm != MAP_FAILED);
	shm[0] = 1;
	pid_t me = getpid();
	child = fork();
	if (child == 0) {
		wait_sleeping(me, me);
		long a = fx(shm, FUTEX_WAKE_PRIVATE, 1, NULL);
		long b = fx(shm, FUTEX_WAKE, 1, NULL);
		_exit(a == 0 && b == 1 ? 0 : 1);
	}
	CHECK(child > 0);
	struct timespec five = { 5, 0 };
	CHECK(fx(shm, FUTEX_WAIT, 1, &five) == 0);
	CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

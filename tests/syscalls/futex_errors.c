/* futex: value mismatch (EAGAIN), timeouts relative and absolute on either clock, bad
 * arguments (misaligned, EFAULT, unknown op, zero bitset), and a shared futex in MAP_SHARED
 * memory waking a waiter in another process. */
#include "check.h"
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static long futex(void *a, int op, uint32_t v, const struct timespec *ts, void *a2, uint32_t v3)
{
	return syscall(SYS_futex, a, op, v, ts, a2, v3);
}

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	static uint32_t f = 1;
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(futex((char *)&f + 1, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex((void *)8, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EFAULT);
	CHECK_ERR(futex(&f, 99, 1, NULL, NULL, 0), ENOSYS);
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex(&f, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	/* Waking nobody is fine; alignment is still checked. */
	CHECK(futex(&f, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
	CHECK_ERR(futex((char *)&f + 2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);

	/* Relative timeout. */
	struct timespec a, ts = {0, 30000000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), ETIMEDOUT);
	CHECK(ms_since(&a) >= 25);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	CHECK_ERR(futex(&f, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0), EINVAL);

	/* Absolute timeouts with WAIT_BITSET, on the monotonic and the realtime clock. */
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += 30000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET_PRIVATE, 1, &dl, NULL, ~0u), ETIMEDOUT);
	CHECK(ms_since(&a) >= 25);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec -= 1; /* already past */
	CHECK_ERR(futex(&f, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &dl, NULL, ~0u),
		  ETIMEDOUT);
	/* FUTEX_CLOCK_REALTIME only with the absolute waits: not with plain WAIT or WAKE. */
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	CHECK_ERR(futex(&f, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, &ts, NULL, 0), ENOSYS);
	CHECK_ERR(futex(&f, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);

	/* A shared futex: a child waits in shared memory, the parent wakes it. */
	uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*sh = 0;
	pid_t c = fork();
	if (c == 0) {
		struct timespec t = {5, 0};
		while (*sh == 0) {
			if (futex(sh, FUTEX_WAIT, 0, &t, NULL, 0) == -1 && errno == ETIMEDOUT)
				_exit(2);
		}
		_exit(0);
	}
	usleep(100000);
	*sh = 1;
	CHECK(futex(sh, FUTEX_WAKE, 1, NULL, NULL, 0) <= 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* A private wake does not reach a shared waiter in another process. */
	*sh = 0;
	c = fork();
	if (c == 0) {
		struct timespec t = {0, 200000000};
		long r = futex(sh, FUTEX_WAIT, 0, &t, NULL, 0);
		_exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
	}
	usleep(50000);
	CHECK(futex(sh, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

/* Priority-inheritance futexes: the raw protocol (LOCK_PI/TRYLOCK_PI/UNLOCK_PI, the owner tid
 * and FUTEX_WAITERS in the word, EDEADLK/EPERM/ESRCH/EAGAIN, handoff to a waiter, absolute
 * timeouts), and glibc's PTHREAD_PRIO_INHERIT mutexes under contention, robust ones too. */
#include "check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

static long futex(uint32_t *a, int op, uint32_t v, const struct timespec *ts)
{
	return syscall(SYS_futex, a, op, v, ts, NULL, 0);
}

static uint32_t word;
static volatile int waiter_got;

static void *waiter(void *a)
{
	(void)a;
	/* Blocks: the main thread owns the word. */
	long r = futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
	waiter_got = r == 0 && (word & FUTEX_TID_MASK) == (uint32_t)syscall(SYS_gettid);
	futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
	return NULL;
}

static void *timed(void *a)
{
	(void)a;
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 30000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	long r = futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, &dl);
	int ok = r == -1 && errno == ETIMEDOUT;
	r = futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL);
	ok = ok && r == -1 && errno == EAGAIN;
	return (void *)(long)ok;
}

static pthread_mutex_t m;
static long counter;

static void *hammer(void *a)
{
	(void)a;
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void *die_holding(void *a)
{
	pthread_mutex_lock(a);
	return NULL; /* exits with the robust PI mutex held */
}

static void *hold_then_die(void *a)
{
	pthread_mutex_lock(a);
	usleep(100000);
	return NULL;
}

static void *late_locker(void *a)
{
	usleep(30000);
	long r = pthread_mutex_lock(a);
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(a);
		pthread_mutex_unlock(a);
	}
	return (void *)r;
}

int main(void)
{
	uint32_t me = syscall(SYS_gettid);
	/* A free word: LOCK_PI takes it. */
	CHECK(futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0);
	CHECK(word == me);
	CHECK_ERR(futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EDEADLK);
	CHECK_ERR(futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EDEADLK);
	CHECK(futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL) == 0);
	CHECK(word == 0);
	CHECK_ERR(futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM);
	CHECK_ERR(futex((uint32_t *)8, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EFAULT);

	/* A word naming a thread that does not exist: ESRCH. */
	word = 4000000;
	CHECK_ERR(futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), ESRCH);
	word = 0;

	/* Contention: the waiter sets FUTEX_WAITERS and is handed the lock on unlock. */
	CHECK(futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0);
	pthread_t t;
	pthread_create(&t, NULL, waiter, NULL);
	for (int i = 0; i < 500 && !(word & FUTEX_WAITERS); i++)
		usleep(2000);
	CHECK(word == (me | FUTEX_WAITERS));
	CHECK(futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL) == 0);
	pthread_join(t, NULL);
	CHECK(waiter_got);
	CHECK(word == 0);

	/* An absolute timeout while another thread holds it; TRYLOCK is EAGAIN. */
	CHECK(futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0);
	void *ok;
	pthread_create(&t, NULL, timed, NULL);
	pthread_join(t, &ok);
	CHECK(ok == (void *)1L);
	CHECK(futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL) == 0);

	/* glibc PI mutexes: 4 threads, 80000 increments. */
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	CHECK(pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT) == 0);
	CHECK(pthread_mutex_init(&m, &at) == 0);
	pthread_t h[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&h[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(h[i], NULL);
	CHECK(counter == 80000);

	/* Robust + PI: the owner dies holding it; the next locker gets EOWNERDEAD. */
	pthread_mutex_t rm;
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	CHECK(pthread_mutex_init(&rm, &at) == 0);
	pthread_create(&t, NULL, die_holding, &rm);
	pthread_join(t, NULL);
	CHECK(pthread_mutex_lock(&rm) == EOWNERDEAD);
	CHECK(pthread_mutex_consistent(&rm) == 0);
	CHECK(pthread_mutex_unlock(&rm) == 0);
	CHECK(pthread_mutex_lock(&rm) == 0);
	CHECK(pthread_mutex_unlock(&rm) == 0);
	/* ... and a thread already waiting when the owner dies is handed it, EOWNERDEAD. */
	pthread_t t1, t2;
	void *r2;
	pthread_create(&t1, NULL, hold_then_die, &rm);
	pthread_create(&t2, NULL, late_locker, &rm);
	pthread_join(t1, NULL);
	pthread_join(t2, &r2);
	CHECK(r2 == (void *)(long)EOWNERDEAD);
	DONE();
}

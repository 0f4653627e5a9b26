#include "check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <time.h>

static int word;
static long fx(int *a, int op, int v, void *ts, int *a2, int v3)
{
	return syscall(SYS_futex, a, op, v, ts, a2, v3);
}

static void *waker(void *arg)
{
	(void)arg;
	usleep(30000);
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

int main(void)
{
	/* Value mismatch: EAGAIN at once. */
	word = 5;
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN);
	/* Timeout. */
	struct timespec ts = { 0, 20000000 };
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0), ETIMEDOUT);
	/* Woken by another thread. */
	word = 0;
	pthread_t t;
	pthread_create(&t, NULL, waker, NULL);
	while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
		if (fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) != 0 && errno != EAGAIN)
			break;
	pthread_join(t, NULL);
	CHECK(word == 1);
	/* Nobody waits: wake returns 0. */
	CHECK(fx(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0) == 0);
	CHECK_ERR(fx((int *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(fx(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
	CHECK_ERR(fx(&word, 99, 0, NULL, NULL, 0), ENOSYS);
	/* CMP_REQUEUE checks the value. */
	int other = 0;
	CHECK_ERR(fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &other, 12345), EAGAIN);
	CHECK(fx(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &other, 1) == 0);
	/* WAKE_OP updates the second word. */
	other = 3;
	CHECK(fx(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &other, FUTEX_OP(FUTEX_OP_ADD, 4, FUTEX_OP_CMP_EQ, 3)) == 0);
	CHECK(other == 7);
	DONE();
}

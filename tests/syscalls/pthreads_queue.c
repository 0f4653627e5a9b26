#include "check.h"
#include <pthread.h>

#define N 8
#define OPS 125000 /* 4 producers + 4 consumers: 1e6 queue operations */
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static long queue, produced, consumed;

static void *producer(void *a)
{
	(void)a;
	for (int i = 0; i < OPS; i++) {
		pthread_mutex_lock(&m);
		queue++;
		produced++;
		pthread_cond_signal(&c);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void *consumer(void *a)
{
	(void)a;
	for (int i = 0; i < OPS; i++) {
		pthread_mutex_lock(&m);
		while (queue == 0)
			pthread_cond_wait(&c, &m);
		queue--;
		consumed++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, i % 2 ? producer : consumer, NULL);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	CHECK(produced == N / 2 * OPS && consumed == N / 2 * OPS && queue == 0);
	DONE();
}

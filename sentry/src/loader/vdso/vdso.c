/* Palisade's vDSO: clock_gettime, gettimeofday, time and getcpu without a trap.
 *
 * Time comes from the TSC, converted with parameters the sentry publishes in the vvar page just
 * below this object (a seqlock). Until the sentry has calibrated the TSC, or for clocks it does
 * not cover, the functions make the real syscall, which the sentry handles. */
#include <stdint.h>
#include <time.h>
#include <sys/time.h>

struct vvar {
	volatile uint64_t seq;
	volatile uint64_t ready;
	volatile uint64_t tsc_base;
	volatile int64_t mono_base_ns;
	volatile int64_t real_base_ns;
	volatile uint64_t mult; /* ns per TSC tick, 32.32 fixed point */
};

extern const struct vvar palisade_vvar __attribute__((visibility("hidden")));

static inline long raw_syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Nanoseconds of the realtime or monotonic clock; 0 if not calibrated yet. */
static int read_ns(int realtime, int64_t *out)
{
	const volatile struct vvar *v = &palisade_vvar;
	uint64_t seq;
	int64_t ns;
	do {
		seq = v->seq;
		__asm__ volatile("" ::: "memory");
		if (!v->ready)
			return 0;
		int64_t d = (int64_t)(rdtsc_ordered() - v->tsc_base);
		int64_t base = realtime ? v->real_base_ns : v->mono_base_ns;
		ns = base + (int64_t)(((__int128)d * (__int128)v->mult) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((seq & 1) || seq != v->seq);
	*out = ns;
	return 1;
}

int __vdso_clock_gettime(clockid_t clk, struct timespec *ts)
{
	int64_t ns;
	int ok = 0;
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		ok = read_ns(1, &ns);
		break;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_BOOTTIME:
		ok = read_ns(0, &ns);
		break;
	}
	if (!ok)
		return (int)raw_syscall2(228 /* clock_gettime */, clk, (long)ts);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz)
{
	int64_t ns;
	if (!read_ns(1, &ns))
		return (int)raw_syscall2(96 /* gettimeofday */, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = (ns % 1000000000) / 1000;
	}
	if (tz) {
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

time_t __vdso_time(time_t *t)
{
	int64_t ns;
	if (!read_ns(1, &ns))
		return (time_t)raw_syscall2(201 /* time */, (long)t, 0);
	time_t s = ns / 1000000000;
	if (t)
		*t = s;
	return s;
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	uint32_t aux;
	(void)cache;
	/* Linux keeps (node << 12) | cpu in TSC_AUX. */
	__asm__ volatile("rdtscp" : "=c"(aux) :: "rax", "rdx");
	if (cpu)
		*cpu = aux & 0xfff;
	if (node)
		*node = aux >> 12;
	return 0;
	(void)raw_syscall3;
}

int clock_gettime(clockid_t, struct timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
time_t time(time_t *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));

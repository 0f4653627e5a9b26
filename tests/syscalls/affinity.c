#include "check.h"
#include <sched.h>

int main(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_OK(sched_getaffinity(0, sizeof set, &set));
	CHECK(CPU_COUNT(&set) >= 1);
	/* The affinity mask may be narrower than the CPUs online (cpusets). */
	CHECK(CPU_COUNT(&set) <= sysconf(_SC_NPROCESSORS_ONLN));
	long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	CHECK(n > 0 && n % 8 == 0);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof set, NULL), EFAULT);
	CHECK_OK(sched_yield());
	DONE();
}

/* Scheduling calls: sched_yield, policies and priorities, affinity masks (EINVAL for an empty
 * one, EFAULT), nice values with getpriority/setpriority (raising priority needs privilege). */
#define _GNU_SOURCE
#include "check.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>

int main(void)
{
	CHECK_OK(sched_yield());
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
	CHECK(sched_get_priority_max(SCHED_FIFO) == 99 && sched_get_priority_min(SCHED_FIFO) == 1);
	CHECK(sched_get_priority_max(SCHED_OTHER) == 0 && sched_get_priority_min(SCHED_OTHER) == 0);
	CHECK_ERR(sched_get_priority_max(42), EINVAL);
	struct sched_param sp;
	CHECK_OK(sched_getparam(0, &sp));
	CHECK(sp.sched_priority == 0);
	CHECK_ERR(sched_getparam(4000000, &sp), ESRCH);
	CHECK_ERR(sched_getscheduler(-1), EINVAL);

	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_OK(sched_getaffinity(0, sizeof set, &set));
	int n = CPU_COUNT(&set);
	/* The affinity mask may be narrower than the CPUs online (cpusets). */
	CHECK(n >= 1 && n <= sysconf(_SC_NPROCESSORS_ONLN));
	cpu_set_t empty;
	CPU_ZERO(&empty);
	CHECK_ERR(sched_setaffinity(0, sizeof empty, &empty), EINVAL);
	CHECK_ERR(sched_getaffinity(0, sizeof set, (cpu_set_t *)8), EFAULT);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 3, &set), EINVAL); /* not a multiple of 8 */
	CHECK_OK(sched_setaffinity(0, sizeof set, &set));
	CHECK_ERR(sched_getaffinity(4000000, sizeof set, &set), ESRCH);

	/* Nice values. */
	errno = 0;
	CHECK(getpriority(PRIO_PROCESS, 0) == 0 && errno == 0);
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 5));
	CHECK(getpriority(PRIO_PROCESS, 0) == 5);
	/* Out of range values are clamped to [-20, 19]. */
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 100));
	CHECK(getpriority(PRIO_PROCESS, 0) == 19);
	CHECK_ERR(setpriority(42, 0, 0), EINVAL);
	CHECK_ERR(setpriority(PRIO_PROCESS, 4000000, 0), ESRCH);
	/* A child inherits it; unprivileged, it may not lower its nice value. */
	pid_t c = fork();
	if (c == 0) {
		setgid(65534);
		setuid(65534);
		int bad = getpriority(PRIO_PROCESS, 0) != 19;
		if (setpriority(PRIO_PROCESS, 0, 10) != -1 || errno != EACCES)
			bad |= 2;
		_exit(bad);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_OK(setpriority(PRIO_PROCESS, 0, 0));
	DONE();
}

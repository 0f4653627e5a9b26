/* The minimal sysfs: CPU ranges agree with the CPUs the process may use, a cpuN directory
 * per CPU, the huge page policy file; sysfs is read-only. */
#define _GNU_SOURCE
#include "check.h"
#include <sched.h>
#include <sys/statfs.h>

int main(void)
{
	char buf[64] = { 0 };
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	/* "0" or "0-N" (natively it may list ranges; take the last number). */
	char *dash = strrchr(buf, '-');
	long last = strtol(dash ? dash + 1 : buf, NULL, 10);
	CHECK(last + 1 >= sysconf(_SC_NPROCESSORS_ONLN));
	char path[64];
	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld", last);
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(access("/sys/devices/system/cpu/possible", R_OK));
	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	CHECK(fd >= 0);
	memset(buf, 0, sizeof buf);
	CHECK(read(fd, buf, sizeof buf - 1) > 0 && strchr(buf, '[') != NULL);
	close(fd);
	struct statfs sf;
	CHECK_OK(statfs("/sys", &sf));
	CHECK(sf.f_type == 0x62656572);
	/* Containers mount /sys read-only (EROFS); a host's is read-write with read-only files. */
	errno = 0;
	CHECK(open("/sys/devices/system/cpu/online", O_WRONLY) == -1 &&
	      (errno == EROFS || errno == EACCES));
	errno = 0;
	CHECK(mkdir("/sys/palisade-test", 0755) == -1 && (errno == EROFS || errno == EPERM));
	return failures != 0;
}

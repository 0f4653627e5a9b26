/* /proc files that identify the system: version and sys/kernel/{osrelease,ostype,hostname,
 * pid_max} agree with uname(2) and gethostname(2); uptime agrees with sysinfo(2) and its idle
 * time is not negative; meminfo's MemTotal is sysinfo's total RAM; files are read-only. */
#include "check.h"
#include <sys/sysinfo.h>
#include <sys/utsname.h>

static int slurp(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return (int)r;
}

int main(void)
{
	struct utsname u;
	CHECK_OK(uname(&u));
	char buf[4096], want[512];
	CHECK(slurp("/proc/sys/kernel/osrelease", buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "%s\n", u.release);
	CHECK(strcmp(buf, want) == 0);
	CHECK(slurp("/proc/sys/kernel/ostype", buf, sizeof buf) > 0);
	CHECK(strcmp(buf, "Linux\n") == 0);
	CHECK(slurp("/proc/sys/kernel/hostname", buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "%s\n", u.nodename);
	CHECK(strcmp(buf, want) == 0);
	CHECK(slurp("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0);
	CHECK(atol(buf) >= 32768);
	CHECK(slurp("/proc/version", buf, sizeof buf) > 0);
	snprintf(want, sizeof want, "Linux version %s ", u.release);
	CHECK(strncmp(buf, want, strlen(want)) == 0);

	struct sysinfo si;
	CHECK_OK(sysinfo(&si));
	double up, idle;
	CHECK(slurp("/proc/uptime", buf, sizeof buf) > 0);
	CHECK(sscanf(buf, "%lf %lf", &up, &idle) == 2);
	CHECK(up >= si.uptime - 2 && up <= si.uptime + 2);
	CHECK(idle >= 0);
	CHECK(si.procs >= 1);

	CHECK(slurp("/proc/meminfo", buf, sizeof buf) > 0);
	unsigned long total = 0;
	CHECK(sscanf(buf, "MemTotal: %lu kB", &total) == 1);
	CHECK(total == si.totalram * si.mem_unit / 1024);
	CHECK(strstr(buf, "MemAvailable:") != NULL);

	/* Read in pieces: offsets work. */
	int fd = open("/proc/version", O_RDONLY);
	char a[8], b[8];
	CHECK(read(fd, a, 8) == 8 && read(fd, b, 8) == 8);
	CHECK(memcmp(a, "Linux ve", 8) == 0 && memcmp(b, "rsion ", 6) == 0);
	close(fd);
	CHECK_ERR(open("/proc/sys/kernel/ostype", O_WRONLY), EACCES);
	DONE();
}

#include "check.h"
#include <sys/sysinfo.h>

int main(void)
{
	struct sysinfo s;
	CHECK_OK(sysinfo(&s));
	CHECK(s.totalram > 0 && s.mem_unit > 0);
	CHECK(s.freeram <= s.totalram);
	CHECK(s.uptime >= 0 && s.procs >= 1);
	CHECK_ERR(sysinfo(NULL), EFAULT);
	DONE();
}

#include "check.h"
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.sysname, "Linux") == 0);
	CHECK(strcmp(u.machine, "x86_64") == 0);
	CHECK(strlen(u.release) > 0 && strlen(u.version) > 0 && strlen(u.nodename) > 0);
	CHECK_ERR(uname(NULL), EFAULT);
	CHECK_ERR(uname((void *)1), EFAULT);
	DONE();
}

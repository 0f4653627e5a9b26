#include "check.h"

int main(void)
{
	CHECK(getuid() == geteuid());
	CHECK(getgid() == getegid());
	CHECK(getpid() > 0);
	CHECK(syscall(SYS_gettid) == getpid());
	CHECK(getppid() >= 0);
	CHECK(getpgid(0) == getpgrp());
	CHECK(getsid(0) >= 0); /* 0 when the session leader is outside our pid namespace */
	CHECK(getsid(0) == getsid(getpid()));
	CHECK(getpgid(getpid()) == getpgrp());
	CHECK(syscall(SYS_set_tid_address, NULL) == getpid());
	CHECK(getgroups(0, NULL) >= 0);
	CHECK_ERR(getgroups(-1, NULL), EINVAL);
	DONE();
}

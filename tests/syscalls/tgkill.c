#include "check.h"
#include <signal.h>

int main(void)
{
	pid_t pid = getpid(), tid = syscall(SYS_gettid);
	CHECK_OK(syscall(SYS_tgkill, pid, tid, 0));
	CHECK_OK(syscall(SYS_tkill, tid, 0));
	CHECK_ERR(syscall(SYS_tgkill, 0, tid, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, pid, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, pid, tid, 100), EINVAL);
	CHECK_ERR(syscall(SYS_tkill, -1, 0), EINVAL);
	signal(SIGURG, SIG_DFL);
	CHECK_OK(syscall(SYS_tgkill, pid, tid, SIGURG));
	DONE();
}

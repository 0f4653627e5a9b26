#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	int fd = syscall(SYS_pidfd_open, p, 0);
	CHECK(fd >= 0);
	CHECK_OK(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK(si.si_pid == p && si.si_code == CLD_KILLED && si.si_status == SIGTERM);
	CHECK_ERR(syscall(SYS_pidfd_open, 999999, 0), ESRCH);
	CHECK_ERR(syscall(SYS_pidfd_open, p, 0x1), EINVAL);
	CHECK_ERR(syscall(SYS_pidfd_send_signal, 0, SIGTERM, NULL, 0), EBADF);
	DONE();
}

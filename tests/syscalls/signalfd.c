#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

int main(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	struct signalfd_siginfo si;
	CHECK_ERR(read(fd, &si, sizeof si), EAGAIN);
	kill(getpid(), SIGUSR1);
	struct pollfd p = { fd, POLLIN, 0 };
	CHECK(poll(&p, 1, 1000) == 1);
	CHECK(read(fd, &si, sizeof si) == sizeof si);
	CHECK(si.ssi_signo == SIGUSR1 && si.ssi_code == SI_USER && si.ssi_pid == (uint32_t)getpid());
	/* A child's exit arrives as SIGCHLD with its status. */
	pid_t c = fork();
	if (c == 0)
		_exit(9);
	p.revents = 0;
	CHECK(poll(&p, 1, 2000) == 1);
	CHECK(read(fd, &si, sizeof si) == sizeof si);
	CHECK(si.ssi_signo == SIGCHLD && si.ssi_pid == (uint32_t)c && si.ssi_status == 9 && si.ssi_code == CLD_EXITED);
	waitpid(c, NULL, 0);
	/* The mask can be changed on the same descriptor. */
	sigset_t only;
	sigemptyset(&only);
	sigaddset(&only, SIGUSR1);
	CHECK(signalfd(fd, &only, 0) == fd);
	CHECK_ERR(read(fd, &si, 4), EINVAL);
	int notsfd = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(signalfd(notsfd, &only, 0), EINVAL);
	CHECK_ERR(signalfd(-1, &only, 0x1234), EINVAL);
	DONE();
}

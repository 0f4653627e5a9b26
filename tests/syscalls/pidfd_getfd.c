/* pidfd_getfd(2): a close-on-exec duplicate of another process's descriptor sharing its open
 * file description (offset included); EINVAL for flags, EBADF for something that is not a
 * pidfd or a descriptor the process does not have, EPERM for another user's process without
 * CAP_SYS_PTRACE, ESRCH once the process has exited. */
#include "check.h"

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int getfd(int pidfd, int fd, unsigned flags)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, flags);
}

int main(void)
{
	scratch_init("getfd");
	CHECK(put_text(S("f"), "abcdef") == 0);
	int to_child[2], from_child[2];
	CHECK_OK(pipe(to_child));
	CHECK_OK(pipe(from_child));
	pid_t c = fork();
	if (c == 0) {
		int fd = open(S("f"), O_RDONLY);
		if (fd < 0)
			_exit(2);
		write(from_child[1], &fd, sizeof fd);
		char b;
		/* The parent read two bytes through its copy: this one is the third. */
		if (read(to_child[0], &b, 1) != 1 || read(fd, &b, 1) != 1 || b != 'c')
			_exit(3);
		_exit(0);
	}
	int cfd = -1;
	CHECK(read(from_child[0], &cfd, sizeof cfd) == sizeof cfd);
	int pfd = pidfd_open(c);
	CHECK(pfd >= 0);
	int mine = getfd(pfd, cfd, 0);
	CHECK(mine >= 0);
	CHECK(fcntl(mine, F_GETFD) == FD_CLOEXEC);
	char b[4] = {0};
	CHECK(read(mine, b, 2) == 2 && memcmp(b, "ab", 2) == 0);
	CHECK_ERR(getfd(pfd, cfd, 1), EINVAL);
	CHECK_ERR(getfd(pfd, 999, 0), EBADF);
	CHECK_ERR(getfd(pfd, -1, 0), EBADF);
	CHECK_ERR(getfd(mine, 0, 0), EBADF); /* not a pidfd */
	CHECK_ERR(getfd(12345, 0, 0), EBADF);
	CHECK(write(to_child[1], "x", 1) == 1);
	/* Exited (not yet reaped): ESRCH. */
	siginfo_t si;
	CHECK_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	CHECK(si.si_status == 0);
	CHECK_ERR(getfd(pfd, cfd, 0), ESRCH);
	CHECK(waitpid(c, NULL, 0) == c);

	/* Our own process. */
	int self = pidfd_open(getpid());
	int again = getfd(self, mine, 0);
	CHECK(again >= 0 && again != mine);
	CHECK(read(again, b, 1) == 1 && b[0] == 'd'); /* the child read the 'c' */

	/* Another user's process: EPERM. */
	c = fork();
	if (c == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		int p = pidfd_open(getppid());
		if (p < 0)
			_exit(3);
		if (getfd(p, 0, 0) != -1 || errno != EPERM)
			_exit(4);
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	scratch_cleanup();
	DONE();
}

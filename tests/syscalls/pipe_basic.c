#include "check.h"
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int fds[2];
	CHECK_OK(pipe(fds));
	struct stat st;
	CHECK_OK(fstat(fds[0], &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK(fcntl(fds[0], F_GETPIPE_SZ) == 65536);
	CHECK(write(fds[1], "hello", 5) == 5);
	int n = -1;
	CHECK_OK(ioctl(fds[0], FIONREAD, &n));
	CHECK(n == 5);
	char buf[16];
	CHECK(read(fds[0], buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK_ERR(lseek(fds[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pread(fds[0], buf, 1, 0), ESPIPE);
	CHECK_ERR(write(fds[0], "x", 1), EBADF);
	CHECK(write(fds[1], "", 0) == 0);
	CHECK_ERR(read(fds[1], buf, 1), EBADF);
	/* EOF once every writer is gone. */
	close(fds[1]);
	CHECK(read(fds[0], buf, sizeof buf) == 0);
	close(fds[0]);
	/* EPIPE (and SIGPIPE, ignored here) once every reader is gone. */
	CHECK_OK(pipe2(fds, O_CLOEXEC | O_NONBLOCK));
	CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC && (fcntl(fds[0], F_GETFL) & O_NONBLOCK));
	CHECK_ERR(read(fds[0], buf, 1), EAGAIN);
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	CHECK_ERR(write(fds[1], "x", 1), EPIPE);
	CHECK_ERR(pipe2(fds, 0x1234), EINVAL);
	CHECK_ERR(pipe(NULL), EFAULT);
	/* Unignored SIGPIPE kills the writer. */
	pid_t p = fork();
	if (p == 0) {
		signal(SIGPIPE, SIG_DFL);
		int f[2];
		pipe(f);
		close(f[0]);
		write(f[1], "x", 1);
		_exit(0);
	}
	int ws;
	CHECK(waitpid(p, &ws, 0) == p && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGPIPE);
	DONE();
}

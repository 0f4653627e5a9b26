/* Resource limits enforced: RLIMIT_NOFILE for open/dup/pipe/F_DUPFD (and dup2's target),
 * RLIMIT_FSIZE with SIGXFSZ/EFBIG, raising a hard limit needs privilege, prlimit on another
 * process. */
#include "check.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

int main(void)
{
	/* Start from descriptors 0-2 only (the harness may pass more). */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	struct rlimit rl = {16, 16}, got;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	int fds[32], n = 0;
	for (;;) {
		int fd = open("/etc/passwd", O_RDONLY);
		if (fd < 0) {
			CHECK(errno == EMFILE);
			break;
		}
		fds[n++] = fd;
		if (n == 32)
			break;
	}
	CHECK(n == 16 - 3);
	CHECK_ERR(dup(0), EMFILE);
	int p[2];
	CHECK_ERR(pipe(p), EMFILE);
	CHECK_ERR(dup2(0, 16), EBADF);
	CHECK_ERR(fcntl(0, F_DUPFD, 16), EINVAL);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	CHECK(fcntl(0, F_DUPFD, 10) == 10);
	close(10);

	/* soft > hard is EINVAL; raising hard as an unprivileged user is EPERM. */
	rl.rlim_cur = 32;
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
	pid_t c = fork();
	if (c == 0) {
		setgid(65534);
		setuid(65534);
		struct rlimit r = {16, 64};
		_exit(setrlimit(RLIMIT_NOFILE, &r) == -1 && errno == EPERM ? 0 : 1);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* prlimit on a child: read and set its limits. */
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	/* (Lowered: raising a hard limit needs CAP_SYS_RESOURCE, which CI hosts may lack.) */
	struct rlimit nr = {8, 12}, old;
	CHECK_OK(prlimit(c, RLIMIT_NOFILE, &nr, &old));
	CHECK(old.rlim_cur == 16);
	CHECK_OK(prlimit(c, RLIMIT_NOFILE, NULL, &got));
	CHECK(got.rlim_cur == 8 && got.rlim_max == 12);
	/* Ours is unchanged: limits are per process. */
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
	CHECK(got.rlim_cur == 16);
	CHECK_ERR(prlimit(4000000, RLIMIT_NOFILE, NULL, &got), ESRCH);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);

	/* RLIMIT_FSIZE: a write past it is cut short, then EFBIG with SIGXFSZ. */
	c = fork();
	if (c == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit f = {1000, 1000};
		setrlimit(RLIMIT_FSIZE, &f);
		int fd = open("/dev/shm/rlimit_fsize", O_CREAT | O_RDWR | O_TRUNC, 0600);
		unlink("/dev/shm/rlimit_fsize");
		static char buf[1500];
		int bad = 0;
		if (write(fd, buf, sizeof buf) != 1000)
			bad |= 1;
		if (write(fd, buf, 1) != -1 || errno != EFBIG)
			bad |= 2;
		_exit(bad);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	c = fork();
	if (c == 0) {
		struct rlimit f = {10, 10};
		setrlimit(RLIMIT_FSIZE, &f);
		int fd = open("/dev/shm/rlimit_fsize2", O_CREAT | O_RDWR | O_TRUNC, 0600);
		unlink("/dev/shm/rlimit_fsize2");
		lseek(fd, 100, SEEK_SET);
		write(fd, "x", 1); /* default action of SIGXFSZ: core dump */
		_exit(0);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ);
	DONE();
}

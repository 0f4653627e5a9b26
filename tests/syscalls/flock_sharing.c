/* flock(2) locks belong to the open file description: dup'd and inherited descriptors share
 * one lock (any of them may unlock it, and it lasts until the last one closes), separate
 * opens conflict even in one process, conversions between shared and exclusive, a blocked
 * LOCK_EX waits for the holder's release and a signal interrupts it with EINTR; flock and
 * fcntl locks do not see each other; bad operations are EINVAL, O_PATH descriptors EBADF. */
#include "check.h"
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

static void on_alarm(int sig)
{
	(void)sig;
}

/* In a child: try a non-blocking lock of op on a new open of path; 0 ok, else errno. */
static int child_try(const char *path, int op)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(100);
		_exit(flock(fd, op | LOCK_NB) == 0 ? 0 : errno);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 101;
}

int main(void)
{
	scratch_init("flock");
	char *f = strdup(S("f"));
	CHECK_OK(put_text(f, "x"));
	int a = open(f, O_RDWR), b = open(f, O_RDONLY);
	CHECK(a >= 0 && b >= 0);

	/* Two opens in one process conflict. */
	CHECK_OK(flock(a, LOCK_EX));
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	/* A dup shares the lock: locking again through it is a no-op, unlocking through it
	 * releases it for everyone. */
	int a2 = dup(a);
	CHECK_OK(flock(a2, LOCK_EX | LOCK_NB));
	CHECK_OK(flock(a2, LOCK_UN));
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_OK(flock(b, LOCK_UN));
	/* Closing one of two descriptors keeps the lock; closing the last releases it. */
	CHECK_OK(flock(a, LOCK_EX));
	close(a2);
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK(child_try(f, LOCK_SH) == EWOULDBLOCK);

	/* A forked child's descriptor is the same description: it may unlock for the parent. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(flock(a, LOCK_UN) == 0 ? 0 : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(child_try(f, LOCK_EX) == 0);

	/* Shared locks coexist; converting to exclusive needs the others gone. */
	CHECK_OK(flock(a, LOCK_SH));
	CHECK_OK(flock(b, LOCK_SH));
	CHECK(child_try(f, LOCK_SH) == 0);
	CHECK(child_try(f, LOCK_EX) == EWOULDBLOCK);
	CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_OK(flock(b, LOCK_UN));
	CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
	/* Down to shared again: others may share. */
	CHECK_OK(flock(a, LOCK_SH));
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_OK(flock(b, LOCK_UN));
	CHECK_OK(flock(a, LOCK_UN));

	/* flock and fcntl locks are independent. */
	CHECK_OK(flock(a, LOCK_EX));
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	CHECK_OK(fcntl(b, F_SETLK, &fl));
	fl.l_type = F_UNLCK;
	CHECK_OK(fcntl(b, F_SETLK, &fl));

	/* A blocked LOCK_EX waits for the release. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = fork();
	if (pid == 0) {
		int fd = open(f, O_RDONLY);
		char c = 's';
		write(p[1], &c, 1);
		int r = flock(fd, LOCK_EX);
		c = r == 0 ? 'L' : 'E';
		write(p[1], &c, 1);
		_exit(0);
	}
	char c;
	CHECK(read(p[0], &c, 1) == 1 && c == 's');
	usleep(50000);
	CHECK_OK(flock(a, LOCK_UN));
	CHECK(read(p[0], &c, 1) == 1 && c == 'L');
	CHECK(waitpid(pid, &st, 0) == pid);

	/* A signal interrupts a blocked flock (no SA_RESTART). */
	CHECK_OK(flock(a, LOCK_EX));
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	ualarm(50000, 0);
	CHECK_ERR(flock(b, LOCK_EX), EINTR);
	CHECK_OK(flock(a, LOCK_UN));

	CHECK_ERR(flock(a, 0), EINVAL);
	CHECK_ERR(flock(a, LOCK_SH | LOCK_EX), EINVAL);
	CHECK_ERR(flock(999, LOCK_SH), EBADF);
	int op = open(f, O_PATH);
	CHECK_ERR(flock(op, LOCK_SH), EBADF);
	close(op);
	close(a);
	close(b);
	scratch_cleanup();
	DONE();
}

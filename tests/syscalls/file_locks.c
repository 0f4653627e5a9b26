/* Record locks (POSIX and OFD) and flock(2): conflicts between processes, F_GETLK reports,
 * splitting, release on close of any descriptor, EDEADLK, blocking waits, flock conversion. */
#include "check.h"
#include <sys/file.h>
#include <sys/wait.h>

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* F_GETLK for [start, start+len): the conflicting lock's type (F_UNLCK if none). */
static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	if (fcntl(fd, cmd, &fl) != 0)
		fl.l_type = -1;
	return fl;
}

static int child_status(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/palisade-locks-%d", getpid());
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);

	/* Bad arguments. */
	CHECK_ERR(setlk(fd, F_SETLK, 99, 0, 1), EINVAL);
	struct flock bad = { .l_type = F_RDLCK, .l_whence = 7 };
	CHECK_ERR(fcntl(fd, F_SETLK, &bad), EINVAL);
	CHECK_ERR(setlk(fd, F_SETLK, F_RDLCK, -5, 1), EINVAL);
	CHECK_ERR(fcntl(fd, F_SETLK, (void *)8), EFAULT);
	int ro = open(path, O_RDONLY);
	CHECK_ERR(setlk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);

	/* Our own locks never conflict with us; a process holding [0,10) write-locked... */
	CHECK_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	CHECK(getlk(fd, F_GETLK, F_WRLCK, 0, 10).l_type == F_UNLCK);
	/* ...unlocks the middle, leaving two ranges. */
	CHECK_OK(setlk(fd, F_SETLK, F_UNLCK, 3, 4));

	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 0, 0);
		bad |= fl.l_type != F_WRLCK || fl.l_start != 0 || fl.l_len != 3 || fl.l_pid != getppid();
		fl = getlk(fd, F_GETLK, F_RDLCK, 3, 4);
		bad |= (fl.l_type != F_UNLCK) << 1;
		fl = getlk(fd, F_GETLK, F_WRLCK, 5, 100);
		bad |= (fl.l_type != F_WRLCK || fl.l_start != 7 || fl.l_len != 3) << 2;
		bad |= !(setlk(fd, F_SETLK, F_RDLCK, 1, 1) == -1 && (errno == EAGAIN || errno == EACCES)) << 3;
		bad |= (setlk(fd, F_SETLK, F_WRLCK, 3, 4) != 0) << 4;
		_exit(bad);
	}
	CHECK(child_status(pid) == 0);

	/* Closing any descriptor of the file drops this process's POSIX locks. */
	int other = open(path, O_RDONLY);
	close(other);
	pid = fork();
	if (pid == 0)
		_exit(setlk(fd, F_SETLK, F_WRLCK, 0, 10) != 0);
	CHECK(child_status(pid) == 0);

	/* Read locks share; a writer blocks until they go (F_SETLKW). */
	CHECK_OK(setlk(fd, F_SETLK, F_RDLCK, 0, 0));
	int pfd[2];
	CHECK_OK(pipe(pfd));
	pid = fork();
	if (pid == 0) {
		int bad = setlk(fd, F_SETLK, F_RDLCK, 0, 0) != 0;
		bad |= !(setlk(fd, F_SETLK, F_WRLCK, 0, 1) == -1) << 1;
		write(pfd[1], "x", 1);
		bad |= (setlk(fd, F_SETLKW, F_WRLCK, 0, 1) != 0) << 2; /* waits for the parent */
		_exit(bad);
	}
	char c;
	CHECK(read(pfd[0], &c, 1) == 1);
	usleep(50000);
	CHECK_OK(setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(child_status(pid) == 0);

	/* Deadlock: we hold byte 0 and wait for byte 1, the child holds 1 and waits for 0. */
	CHECK_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
	pid = fork();
	if (pid == 0) {
		if (setlk(fd, F_SETLK, F_WRLCK, 1, 1) != 0)
			_exit(10);
		write(pfd[1], "y", 1);
		/* Blocks on the parent's byte 0 until the parent, refused with EDEADLK, unlocks. */
		_exit(setlk(fd, F_SETLKW, F_WRLCK, 0, 1) != 0 ? 11 : 0);
	}
	CHECK(read(pfd[0], &c, 1) == 1);
	usleep(100000); /* let the child block */
	CHECK_ERR(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	CHECK_OK(setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(child_status(pid) == 0);

	/* OFD locks: owned by the description, so two opens conflict even in one process, and
	 * they conflict with POSIX locks too. l_pid must be 0 on input; F_OFD_GETLK reports -1. */
	int a = open(path, O_RDWR), b = open(path, O_RDWR);
	CHECK(a >= 0 && b >= 0);
	struct flock ofl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5, .l_pid = 1 };
	CHECK_ERR(fcntl(a, F_OFD_SETLK, &ofl), EINVAL);
	CHECK_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 5));
	CHECK_ERR(setlk(b, F_OFD_SETLK, F_WRLCK, 2, 1), EAGAIN);
	struct flock g = getlk(b, F_OFD_GETLK, F_RDLCK, 0, 1);
	CHECK(g.l_type == F_WRLCK && g.l_pid == -1 && g.l_len == 5);
	CHECK_ERR(setlk(fd, F_SETLK, F_RDLCK, 4, 1), EAGAIN);
	/* Closing another descriptor does not drop OFD locks; closing its own does. */
	close(b);
	CHECK(getlk(fd, F_GETLK, F_RDLCK, 0, 1).l_type == F_WRLCK);
	close(a);
	CHECK(getlk(fd, F_GETLK, F_WRLCK, 0, 0).l_type == F_UNLCK);

	/* flock: per description, shared or exclusive, conversion, LOCK_NB, inherited by fork. */
	a = open(path, O_RDONLY);
	b = open(path, O_RDONLY);
	CHECK_OK(flock(a, LOCK_SH));
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_OK(flock(a, LOCK_UN));
	CHECK_OK(flock(b, LOCK_EX | LOCK_NB));
	CHECK_ERR(flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(flock(a, 0), EINVAL);
	/* flock and record locks are independent. */
	CHECK_OK(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	CHECK_ERR(flock(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK); /* b's flock, not the record lock */
	pid = fork();
	if (pid == 0) {
		/* The child shares b's description, so it holds the exclusive lock too. */
		int bad = flock(b, LOCK_EX | LOCK_NB) != 0;
		int c2 = open(path, O_RDONLY);
		bad |= !(flock(c2, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) << 1;
		close(b);
		write(pfd[1], "z", 1);
		bad |= (flock(c2, LOCK_SH) != 0) << 2; /* waits for the parent's close of b */
		_exit(bad);
	}
	CHECK(read(pfd[0], &c, 1) == 1);
	usleep(50000);
	int st;
	CHECK(waitpid(pid, &st, WNOHANG) == 0); /* still waiting */
	close(b); /* the last reference to the description: its lock goes */
	CHECK(child_status(pid) == 0);
	close(a);
	close(ro);
	close(fd);
	unlink(path);
	return failures != 0;
}

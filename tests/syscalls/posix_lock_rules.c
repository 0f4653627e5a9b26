/* POSIX record locks as databases use them: owned by the process (a second lock by the same
 * process replaces, splits and merges ranges rather than conflicting), released by closing
 * any descriptor of the file, not inherited by fork but kept across exec; ranges relative
 * to SEEK_CUR and SEEK_END, negative lengths, locks past EOF; F_GETLK reports the holder's
 * pid and range; F_OFD locks conflict with a process's own POSIX locks. */
#include "check.h"
#include <sys/wait.h>

static int lk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* In a child (another lock owner): F_GETLK of [start, start+len) for a write lock. */
static int probe(int fd, off_t start, off_t len, struct flock *out)
{
	int p[2];
	if (pipe(p))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
		if (fcntl(fd, F_GETLK, &fl))
			_exit(1);
		write(p[1], &fl, sizeof fl);
		_exit(0);
	}
	int st, ok = read(p[0], out, sizeof *out) == sizeof *out;
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		/* After exec: the lock taken before is still ours (a child sees it held by us). */
		int fd = atoi(argv[2]);
		struct flock g;
		if (probe(fd, 0, 1, &g) || g.l_type != F_WRLCK || g.l_pid != getpid())
			return 1;
		return 0;
	}
	scratch_init("posixlk");
	char *f = strdup(S("f"));
	CHECK_OK(put_text(f, "0123456789"));
	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	struct flock g;

	/* Same owner: a write lock over part of a read lock splits it. */
	CHECK_OK(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 4, 2));
	CHECK(probe(fd, 0, 1, &g) == 0 && g.l_type == F_RDLCK && g.l_start == 0 && g.l_len == 4 &&
	      g.l_pid == getpid());
	CHECK(probe(fd, 4, 1, &g) == 0 && g.l_type == F_WRLCK && g.l_start == 4 && g.l_len == 2);
	CHECK(probe(fd, 9, 1, &g) == 0 && g.l_type == F_RDLCK && g.l_start == 6 && g.l_len == 4);
	/* Unlocking the middle leaves two pieces; relocking merges adjacent same-type ranges. */
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 4, 2));
	CHECK(probe(fd, 4, 2, &g) == 0 && g.l_type == F_UNLCK);
	CHECK_OK(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 4, 2));
	CHECK(probe(fd, 5, 1, &g) == 0 && g.l_type == F_RDLCK && g.l_start == 0 && g.l_len == 10);

	/* Closing any descriptor of the file drops all the process's locks on it. */
	int other = open(f, O_RDONLY);
	close(other);
	CHECK(probe(fd, 0, 10, &g) == 0 && g.l_type == F_UNLCK);

	/* SEEK_CUR and SEEK_END, negative lengths, a lock to EOF and beyond. */
	CHECK(lseek(fd, 5, SEEK_SET) == 5);
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, -2, 2)); /* [3,5) */
	CHECK(probe(fd, 0, 0, &g) == 0 && g.l_start == 3 && g.l_len == 2);
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, SEEK_END, 0, 0)); /* [10, inf) */
	CHECK(probe(fd, 1000, 1, &g) == 0 && g.l_type == F_WRLCK && g.l_start == 10 && g.l_len == 0);
	CHECK(probe(fd, 0, 10, &g) == 0 && g.l_type == F_UNLCK);
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 8, -4)); /* [4,8) */
	CHECK(probe(fd, 0, 0, &g) == 0 && g.l_start == 4 && g.l_len == 4);
	CHECK_ERR(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, -4), EINVAL); /* before 0 */
	CHECK_ERR(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1), EINVAL);
	CHECK_ERR(lk(fd, F_SETLK, F_WRLCK, 7, 0, 1), EINVAL); /* whence */
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

	/* fork: the child does not inherit the lock; it conflicts with it. */
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	pid_t pid = fork();
	if (pid == 0)
		_exit(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == -1 && (errno == EAGAIN || errno == EACCES)
			      ? 0
			      : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* OFD locks are another owner, even in this process. */
	CHECK_ERR(lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1), EAGAIN);
	CHECK_OK(lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 1, 1));
	CHECK_ERR(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 1, 1), EAGAIN);
	CHECK_OK(lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 1, 1));

	/* exec keeps the lock (the descriptor is not close-on-exec). */
	pid = fork();
	if (pid == 0) {
		if (lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)) /* the child's own lock */
			_exit(2);
		char num[16];
		snprintf(num, sizeof num, "%d", fd);
		execl("/proc/self/exe", argv[0], "exec", num, (char *)NULL);
		_exit(3);
	}
	/* (The parent still holds [0,1): release it first so the child can take it.) */
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 2);
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	pid = fork();
	if (pid == 0) {
		if (lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1))
			_exit(2);
		char num[16];
		snprintf(num, sizeof num, "%d", fd);
		execl("/proc/self/exe", argv[0], "exec", num, (char *)NULL);
		_exit(3);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	close(fd);
	scratch_cleanup();
	DONE();
}

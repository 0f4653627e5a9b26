/* utimensat/futimens/utimes: explicit times with nanoseconds, UTIME_NOW and UTIME_OMIT, both
 * omitted (nothing changes, not even ctime), invalid nanoseconds, bad flags, symlinks changed
 * themselves with AT_SYMLINK_NOFOLLOW, and who may set times: the owner any time, a writer only
 * "now", anyone else neither. */
#include "check.h"
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static struct stat st_of(const char *p)
{
	struct stat st;
	memset(&st, 0, sizeof st);
	if (lstat(p, &st) != 0)
		fprintf(stderr, "lstat %s: %s\n", p, strerror(errno));
	return st;
}

int main(void)
{
	scratch_init("utimensat");
	const char *f = S("f");
	CHECK_OK(put_text(f, "x"));

	struct timespec ts[2] = { { 1000, 500 }, { 2000, 600 } };
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	struct stat st = st_of(f);
	CHECK(st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 500);
	CHECK(st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 600);
	time_t now = time(NULL);
	CHECK(st.st_ctim.tv_sec >= now - 5 && st.st_ctim.tv_sec <= now + 1);

	/* UTIME_OMIT keeps one, sets the other. */
	struct timespec om[2] = { { 0, UTIME_OMIT }, { 3000, 7 } };
	CHECK_OK(utimensat(AT_FDCWD, f, om, 0));
	st = st_of(f);
	CHECK(st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 500);
	CHECK(st.st_mtim.tv_sec == 3000 && st.st_mtim.tv_nsec == 7);

	/* UTIME_NOW for one, with any tv_sec. */
	struct timespec nw[2] = { { 12345, UTIME_NOW }, { 0, UTIME_OMIT } };
	CHECK_OK(utimensat(AT_FDCWD, f, nw, 0));
	st = st_of(f);
	CHECK(st.st_atim.tv_sec >= now - 5 && st.st_atim.tv_sec <= now + 5);
	CHECK(st.st_mtim.tv_sec == 3000);

	/* Both omitted: success, and nothing changes, ctime included. */
	CHECK_OK(utimensat(AT_FDCWD, f, ts, 0));
	struct stat before = st_of(f);
	struct timespec both[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	usleep(20000);
	CHECK_OK(utimensat(AT_FDCWD, f, both, 0));
	st = st_of(f);
	CHECK(st.st_ctim.tv_sec == before.st_ctim.tv_sec &&
	      st.st_ctim.tv_nsec == before.st_ctim.tv_nsec);
	CHECK(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000);

	/* NULL times: both now. */
	CHECK_OK(utimensat(AT_FDCWD, f, NULL, 0));
	st = st_of(f);
	CHECK(st.st_mtim.tv_sec >= now - 5 && st.st_atim.tv_sec >= now - 5);

	/* Invalid nanoseconds and flags. */
	struct timespec bad[2] = { { 1, 1000000000 }, { 1, 0 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, bad, 0), EINVAL);
	struct timespec neg[2] = { { 1, 0 }, { 1, -1 } };
	CHECK_ERR(utimensat(AT_FDCWD, f, neg, 0), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, f, ts, 0x1), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, S("missing"), ts, 0), ENOENT);
	CHECK_ERR(utimensat(AT_FDCWD, "", ts, 0), ENOENT);

	/* futimens on a descriptor, and the raw syscall with a NULL path (the fd itself). */
	int fd = open(f, O_RDONLY);
	CHECK(fd >= 0);
	struct timespec t2[2] = { { 4000, 1 }, { 5000, 2 } };
	CHECK_OK(futimens(fd, t2));
	st = st_of(f);
	CHECK(st.st_atim.tv_sec == 4000 && st.st_mtim.tv_sec == 5000 && st.st_mtim.tv_nsec == 2);
	struct timespec t3[2] = { { 6000, 0 }, { 7000, 0 } };
	CHECK_OK(syscall(SYS_utimensat, fd, NULL, t3, 0));
	st = st_of(f);
	CHECK(st.st_atim.tv_sec == 6000 && st.st_mtim.tv_sec == 7000);
	close(fd);
	CHECK_ERR(futimens(-1, t2), EBADF);

	/* utimes (microseconds) and utime (seconds). */
	struct timeval tv[2] = { { 8000, 3 }, { 9000, 4 } };
	CHECK_OK(syscall(SYS_utimes, f, tv));
	st = st_of(f);
	CHECK(st.st_atim.tv_sec == 8000 && st.st_atim.tv_nsec == 3000);
	CHECK(st.st_mtim.tv_sec == 9000 && st.st_mtim.tv_nsec == 4000);
	struct timeval badtv[2] = { { 1, 1000000 }, { 1, 0 } };
	CHECK_ERR(syscall(SYS_utimes, f, badtv), EINVAL);

	/* AT_SYMLINK_NOFOLLOW changes the link, not its target. */
	const char *l = S("l");
	CHECK_OK(symlink("f", l));
	struct timespec lt[2] = { { 111, 0 }, { 222, 0 } };
	CHECK_OK(utimensat(AT_FDCWD, l, lt, AT_SYMLINK_NOFOLLOW));
	CHECK(st_of(l).st_mtim.tv_sec == 222);
	CHECK(st_of(f).st_mtim.tv_sec == 9000);
	CHECK_OK(utimensat(AT_FDCWD, l, ts, 0));
	CHECK(st_of(f).st_mtim.tv_sec == 2000);
	CHECK(st_of(l).st_mtim.tv_sec == 222);

	/* Permissions: a file of root's, mode 0666, and one of mode 0644. */
	const char *w = S("world_writable");
	const char *r = S("read_only");
	CHECK_OK(put_text(w, "w"));
	CHECK_OK(put_text(r, "r"));
	CHECK_OK(chmod(w, 0666));
	CHECK_OK(chmod(r, 0644));
	CHECK_OK(chmod(scratch_base(), 0755));
	pid_t pid = fork();
	if (pid == 0) {
		int bad_ = 0;
		if (setresuid(1000, 1000, 1000) != 0)
			_exit(9);
		/* A writer may set "now" but not explicit times. */
		if (utimensat(AT_FDCWD, w, NULL, 0) != 0)
			bad_ |= 1;
		struct timespec un[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
		if (utimensat(AT_FDCWD, w, un, 0) != 0)
			bad_ |= 2;
		if (utimensat(AT_FDCWD, w, ts, 0) != -1 || errno != EPERM)
			bad_ |= 4;
		/* Neither without write permission. */
		if (utimensat(AT_FDCWD, r, NULL, 0) != -1 || errno != EACCES)
			bad_ |= 8;
		if (utimensat(AT_FDCWD, r, ts, 0) != -1 || errno != EPERM)
			bad_ |= 16;
		/* Omitting both is allowed to anyone (nothing is changed). */
		if (utimensat(AT_FDCWD, r, both, 0) != 0)
			bad_ |= 32;
		_exit(bad_);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "child checks failed: mask %d\n", WEXITSTATUS(status));

	scratch_cleanup();
	DONE();
}

/* Opening /proc/self/fd/N reaches the open file itself: a pipe without a name (as bash's
 * process substitution uses it through /dev/fd), a deleted file, and never a socket. */
#include "check.h"
#include <sys/socket.h>

static int reopen(int fd, int flags)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	return open(p, flags);
}

int main(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	/* The read end, reopened, reads what the write end wrote. */
	int r = reopen(p[0], O_RDONLY);
	CHECK(r >= 0);
	CHECK(write(p[1], "hello", 5) == 5);
	char buf[16] = {0};
	CHECK(read(r, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
	/* The write end, reopened, writes into the same pipe. */
	int w = reopen(p[1], O_WRONLY);
	CHECK(w >= 0);
	CHECK(write(w, "again", 5) == 5);
	memset(buf, 0, sizeof buf);
	CHECK(read(p[0], buf, sizeof buf) == 5 && memcmp(buf, "again", 5) == 0);
	struct stat a, b;
	CHECK_OK(fstat(p[0], &a));
	CHECK_OK(fstat(r, &b));
	CHECK(a.st_ino == b.st_ino && S_ISFIFO(b.st_mode));
	/* A deleted file is still reachable, with an offset of its own. */
	char path[] = "/tmp/proc_fd_reopen.XXXXXX";
	int f = mkstemp(path);
	CHECK(f >= 0);
	CHECK(write(f, "data", 4) == 4);
	CHECK_OK(unlink(path));
	int g = reopen(f, O_RDONLY);
	CHECK(g >= 0);
	memset(buf, 0, sizeof buf);
	CHECK(read(g, buf, sizeof buf) == 4 && memcmp(buf, "data", 4) == 0);
	CHECK(lseek(f, 0, SEEK_CUR) == 4);
	CHECK_OK(fstat(f, &a));
	CHECK_OK(fstat(g, &b));
	CHECK(a.st_ino == b.st_ino && b.st_nlink == 0);
	/* Sockets cannot be opened. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(s >= 0);
	CHECK_ERR(reopen(s, O_RDWR), ENXIO);
	/* A closed descriptor's link is gone. */
	CHECK_ERR(reopen(1000, O_RDONLY), ENOENT);
	DONE();
}

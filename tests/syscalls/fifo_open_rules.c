/* Opening named pipes: a blocking reader waits for a writer and a blocking writer for a
 * reader (each released by the other's open), O_RDONLY|O_NONBLOCK opens at once, O_WRONLY|
 * O_NONBLOCK is ENXIO without a reader, O_RDWR never waits; a reader whose writers all
 * closed sees EOF, a writer whose readers closed gets EPIPE (and SIGPIPE); the pipe's
 * capacity can be changed through the fifo; data does not outlive the last open; a fifo is
 * not seekable and keeps its inode across opens. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	scratch_init("fifoopen");
	char *ff = strdup(S("ff"));
	CHECK_OK(mkfifo(ff, 0666));

	/* A blocking reader waits for the writer the child opens later. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		int w = open(ff, O_WRONLY);
		_exit(w >= 0 && write(w, "hi", 2) == 2 ? 0 : 1);
	}
	int r = open(ff, O_RDONLY);
	CHECK(r >= 0);
	char buf[16];
	CHECK(read(r, buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(read(r, buf, sizeof buf) == 0); /* the writer is gone: EOF */
	close(r);

	/* A blocking writer waits for a reader. */
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		int rr = open(ff, O_RDONLY);
		char b[4];
		_exit(rr >= 0 && read(rr, b, 2) == 2 && memcmp(b, "yo", 2) == 0 ? 0 : 1);
	}
	int w = open(ff, O_WRONLY);
	CHECK(w >= 0 && write(w, "yo", 2) == 2);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The reader closed: EPIPE, and SIGPIPE (ignored here). */
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(w, "x", 1), EPIPE);
	close(w);

	/* Non-blocking opens. */
	CHECK_ERR(open(ff, O_WRONLY | O_NONBLOCK), ENXIO);
	r = open(ff, O_RDONLY | O_NONBLOCK);
	CHECK(r >= 0);
	CHECK(read(r, buf, sizeof buf) == 0); /* no writer yet: EOF, not EAGAIN */
	w = open(ff, O_WRONLY | O_NONBLOCK);
	CHECK(w >= 0);
	CHECK_ERR(read(r, buf, sizeof buf), EAGAIN); /* a writer, no data */
	CHECK(fcntl(w, F_GETPIPE_SZ) >= 4096);
	CHECK(fcntl(w, F_SETPIPE_SZ, 1 << 20) >= (1 << 20));
	CHECK(fcntl(r, F_GETPIPE_SZ) >= (1 << 20)); /* one pipe behind both */
	CHECK(write(w, "left", 4) == 4);
	CHECK_ERR(lseek(r, 0, SEEK_SET), ESPIPE);
	struct stat a, b;
	CHECK(fstat(r, &a) == 0 && fstat(w, &b) == 0 && a.st_ino == b.st_ino && S_ISFIFO(a.st_mode));
	close(w);
	close(r);
	/* Nothing survives the last close. */
	int rw = open(ff, O_RDWR);
	CHECK(rw >= 0);
	CHECK_OK(fcntl(rw, F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(rw, buf, sizeof buf), EAGAIN);
	CHECK(write(rw, "self", 4) == 4 && read(rw, buf, 4) == 4 && memcmp(buf, "self", 4) == 0);
	close(rw);
	scratch_cleanup();
	DONE();
}

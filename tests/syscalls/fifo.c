/* Named pipes: mkfifo, open blocking until the other end opens, O_NONBLOCK rules, data and
 * EOF, O_RDWR, fstat of the node, ESPIPE. */
#include "check.h"
#include <sys/wait.h>

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/palisade-fifo-%d", getpid());
	CHECK_OK(mkfifo(path, 0600));
	CHECK_ERR(mkfifo(path, 0600), EEXIST);
	struct stat st, fst;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600);

	/* Non-blocking: a writer without readers is ENXIO; a reader goes ahead, reads EOF. */
	CHECK_ERR(open(path, O_WRONLY | O_NONBLOCK), ENXIO);
	int r = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(r >= 0);
	char buf[64];
	CHECK(read(r, buf, sizeof buf) == 0);
	CHECK_OK(fstat(r, &fst));
	CHECK(S_ISFIFO(fst.st_mode) && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
	CHECK_ERR(lseek(r, 0, SEEK_SET), ESPIPE);
	/* With a reader there, a non-blocking writer opens. */
	int w = open(path, O_WRONLY | O_NONBLOCK);
	CHECK(w >= 0);
	CHECK(write(w, "abc", 3) == 3);
	CHECK(read(r, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
	CHECK_ERR(read(r, buf, sizeof buf), EAGAIN);
	close(w);
	CHECK(read(r, buf, sizeof buf) == 0);
	close(r);

	/* Blocking opens meet: the child writes, the parent's open waits for it. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		int fd = open(path, O_WRONLY);
		if (fd < 0)
			_exit(2);
		if (write(fd, "hello fifo", 10) != 10)
			_exit(3);
		close(fd);
		_exit(0);
	}
	r = open(path, O_RDONLY);
	CHECK(r >= 0);
	size_t got = 0;
	ssize_t n;
	while ((n = read(r, buf + got, sizeof buf - got)) > 0)
		got += n;
	CHECK(got == 10 && memcmp(buf, "hello fifo", 10) == 0);
	close(r);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The other way round: a blocking writer waits for a reader. */
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		int fd = open(path, O_RDONLY);
		char b[8];
		_exit(fd < 0 || read(fd, b, sizeof b) != 2);
	}
	w = open(path, O_WRONLY);
	CHECK(w >= 0 && write(w, "ok", 2) == 2);
	close(w);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* O_RDWR never blocks and both reads and writes. */
	int rw = open(path, O_RDWR);
	CHECK(rw >= 0);
	CHECK(write(rw, "xy", 2) == 2 && read(rw, buf, 2) == 2 && memcmp(buf, "xy", 2) == 0);
	close(rw);
	CHECK_OK(unlink(path));
	return failures != 0;
}

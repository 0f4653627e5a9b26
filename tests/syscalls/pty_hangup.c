/* Pseudo-terminal hangups. Slave side closed: the master reads what is left, then EIO, polls
 * POLLHUP, and may still write (the next slave reads it). Master closed: the slave is hung
 * up — reads give 0, writes and ioctls EIO, poll says POLLIN|POLLOUT|POLLERR|POLLHUP, the
 * name is gone (ENOENT) — and the session leader whose controlling terminal it was gets
 * SIGHUP and SIGCONT and loses the terminal (/dev/tty ENXIO); a foreground process that is
 * not a session leader gets no signal. */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static volatile sig_atomic_t got_hup, got_cont;
static void on_sig(int s)
{
	if (s == SIGHUP)
		got_hup++;
	else
		got_cont++;
}

static short revents(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* Read with a timeout (the line discipline works asynchronously in Linux). */
static ssize_t read_wait(int fd, char *b, size_t n)
{
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, 2000) != 1)
		return -2;
	return read(fd, b, n);
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	char name[64];
	CHECK_OK(ptsname_r(m, name, sizeof name));
	CHECK_OK(fcntl(m, F_SETFL, O_NONBLOCK));
	char b[64];

	/* No slave yet: nothing to read, writing is fine and waits for the slave. */
	CHECK_ERR(read(m, b, sizeof b), EAGAIN);
	CHECK(revents(m, POLLIN | POLLOUT) == POLLOUT);
	CHECK(write(m, "ab\n", 3) == 3);
	int s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	CHECK(read_wait(s, b, sizeof b) == 3 && memcmp(b, "ab\n", 3) == 0);
	CHECK(read_wait(m, b, sizeof b) == 4 && memcmp(b, "ab\r\n", 4) == 0); /* the echo */

	/* Slave closed with output pending: the master drains it, then EIO. */
	CHECK(write(s, "xy\n", 3) == 3);
	CHECK_OK(close(s));
	CHECK((revents(m, POLLIN | POLLOUT) & (POLLIN | POLLHUP)) == (POLLIN | POLLHUP));
	CHECK(read_wait(m, b, sizeof b) == 4 && memcmp(b, "xy\r\n", 4) == 0);
	CHECK_ERR(read(m, b, sizeof b), EIO);
	CHECK(revents(m, POLLIN) & POLLHUP);
	/* Written while no slave is open: the next slave reads it. */
	CHECK(write(m, "zz\n", 3) == 3);
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	CHECK(read_wait(s, b, sizeof b) == 3 && memcmp(b, "zz\n", 3) == 0);
	CHECK(!(revents(m, POLLIN) & POLLHUP));
	close(s);

	/* A session on the slave: the leader, and a foreground child in its own group. */
	int ready[2], report[2];
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(report));
	pid_t leader = fork();
	if (leader == 0) {
		close(m);
		signal(SIGHUP, on_sig);
		signal(SIGCONT, on_sig);
		setsid();
		int t = open(name, O_RDWR); /* the first terminal a leader opens: controlling */
		if (t < 0)
			_exit(10);
		pid_t fg = fork();
		if (fg == 0) {
			signal(SIGHUP, on_sig);
			setpgid(0, 0);
			/* Read only once in the foreground: a background read would stop this
			 * process with SIGTTIN, and nothing would continue it. */
			while (tcgetpgrp(t) != getpid())
				usleep(1000);
			char c;
			/* Wait for the hangup: the read gives EOF (0) once it happens. */
			while (read(t, &c, 1) > 0)
				;
			usleep(100000);
			char r = got_hup ? 'H' : 'n';
			write(report[1], &r, 1);
			_exit(0);
		}
		setpgid(fg, fg);
		tcsetpgrp(t, fg);
		write(ready[1], "r", 1);
		while (!got_hup || !got_cont)
			usleep(1000);
		int bad = 0;
		char c;
		if (read(t, &c, 1) != 0)
			bad |= 1;
		if (write(t, "x", 1) != -1 || errno != EIO)
			bad |= 2;
		struct winsize ws;
		if (ioctl(t, TIOCGWINSZ, &ws) != -1 || errno != EIO)
			bad |= 4;
		struct termios tio;
		if (tcgetattr(t, &tio) != -1 || errno != EIO)
			bad |= 8;
		struct pollfd p = {t, POLLIN | POLLOUT, 0};
		if (poll(&p, 1, 0) != 1 || p.revents != (POLLIN | POLLOUT | POLLERR | POLLHUP))
			bad |= 16;
		/* The terminal is no longer this session's. */
		if (open("/dev/tty", O_RDWR) != -1 || errno != ENXIO)
			bad |= 32;
		int st;
		if (waitpid(fg, &st, 0) != fg || !WIFEXITED(st))
			bad |= 64;
		_exit(bad);
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	usleep(50000);
	CHECK_OK(close(m));
	int st;
	CHECK(waitpid(leader, &st, 0) == leader && WIFEXITED(st));
	if (WEXITSTATUS(st))
		fprintf(stderr, "leader: %#x\n", WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
	CHECK(read(report[0], &c, 1) == 1 && c == 'n');
	/* The slave's name went with the master. */
	CHECK_ERR(open(name, O_RDWR | O_NOCTTY), ENOENT);
	DONE();
}

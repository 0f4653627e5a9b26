/* Pseudo-terminals: ptmx/devpts (unlock, ptsname), the line discipline (canonical lines, echo,
 * erase, EOF, output CR-LF, raw mode), window size, ^C to the foreground group of the
 * controlling terminal, and a shell run on a pty pair. */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

/* Read from the master until `want` shows up or a second passes. */
static int read_until(int m, char *buf, size_t n, const char *want)
{
	size_t got = 0;
	buf[0] = 0;
	for (int i = 0; i < 100 && !strstr(buf, want); i++) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t r = read(m, buf + got, n - 1 - got);
		if (r <= 0)
			break;
		got += r;
		buf[got] = 0;
	}
	return strstr(buf, want) != NULL;
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	char *name = ptsname(m);
	CHECK(name != NULL && strncmp(name, "/dev/pts/", 9) == 0);
	CHECK_ERR(open(name, O_RDWR | O_NOCTTY), EIO); /* still locked */
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	int s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	CHECK(isatty(s) && isatty(m));
	struct stat st;
	CHECK_OK(fstat(s, &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 136);

	/* Canonical input: whole lines, echoed with CR-LF. */
	char buf[256];
	CHECK(write(m, "hello\n", 6) == 6);
	CHECK(read(s, buf, sizeof buf) == 6 && memcmp(buf, "hello\n", 6) == 0);
	CHECK(read_until(m, buf, sizeof buf, "hello\r\n"));
	/* Erase (DEL) edits the line; a partial line is not readable yet. */
	CHECK(write(m, "ab\x7f", 3) == 3);
	CHECK_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(s, buf, sizeof buf), EAGAIN);
	CHECK(write(m, "c\n", 2) == 2);
	CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "ac\n", 3) == 0);
	/* ^D on an empty line: a read of 0. */
	CHECK(write(m, "\x04", 1) == 1);
	CHECK(read(s, buf, sizeof buf) == 0);
	CHECK_OK(fcntl(s, F_SETFL, 0));
	read_until(m, buf, sizeof buf, "\n"); /* drain echoes */
	/* Output processing: "\n" becomes "\r\n". */
	CHECK(write(s, "out\n", 4) == 4);
	CHECK(read_until(m, buf, sizeof buf, "out\r\n"));

	/* Raw mode: bytes as they come, no echo. */
	struct termios t, saved;
	CHECK_OK(tcgetattr(s, &t));
	saved = t;
	cfmakeraw(&t);
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(m, "xyz", 3) == 3);
	CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "xyz", 3) == 0);
	struct pollfd p = { .fd = m, .events = POLLIN };
	CHECK(poll(&p, 1, 50) == 0); /* nothing echoed */
	CHECK_OK(tcsetattr(s, TCSANOW, &saved));

	/* Window size, set on the master, read on the slave. */
	struct winsize ws = { .ws_row = 40, .ws_col = 132 };
	CHECK_OK(ioctl(m, TIOCSWINSZ, &ws));
	struct winsize got;
	CHECK_OK(ioctl(s, TIOCGWINSZ, &got));
	CHECK(got.ws_row == 40 && got.ws_col == 132);

	/* ^C reaches the foreground process group of the terminal's session. */
	int ready[2];
	CHECK_OK(pipe(ready));
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		if (open("/dev/tty", O_RDWR) != -1 || errno != ENXIO)
			_exit(4); /* a new session has no controlling terminal */
		if (ioctl(s, TIOCSCTTY, 0) != 0)
			_exit(2);
		int tty = open("/dev/tty", O_RDWR);
		if (tty < 0 || write(tty, "T", 1) != 1)
			_exit(3);
		write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	CHECK(read(ready[0], buf, 1) == 1);
	CHECK(read_until(m, buf, sizeof buf, "T")); /* written through /dev/tty */
	pid_t pg = 0;
	CHECK_OK(ioctl(m, TIOCGPGRP, &pg));
	CHECK(pg == pid);
	CHECK(write(m, "\x03", 1) == 1);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
	close(s);

	/* A shell on a pty pair. */
	int m2 = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m2 >= 0 && grantpt(m2) == 0 && unlockpt(m2) == 0);
	char *name2 = ptsname(m2);
	pid = fork();
	if (pid == 0) {
		setsid();
		int sl = open(name2, O_RDWR); /* becomes the controlling terminal */
		if (sl < 0)
			_exit(2);
		dup2(sl, 0), dup2(sl, 1), dup2(sl, 2);
		close(sl);
		execl("/bin/sh", "sh", "-i", (char *)NULL);
		_exit(3);
	}
	CHECK(write(m2, "echo hi-$((1+2))\n", 17) == 17);
	CHECK(read_until(m2, buf, sizeof buf, "hi-3\r\n"));
	CHECK(write(m2, "exit 7\n", 7) == 7);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
	close(m2);
	close(m);
	return failures != 0;
}

/* Terminal modes: ECHO off, ISIG off (^C is a byte), ^Z stops the foreground job and the
 * parent sees it, SIGWINCH on a window size change, TIOCSPGRP rules, hangup on master close. */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static volatile sig_atomic_t winched;
static void on_winch(int s)
{
	(void)s;
	winched = 1;
}

static int pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 50) > 0;
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	struct termios t;
	CHECK_OK(tcgetattr(s, &t));
	CHECK((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
	CHECK((t.c_oflag & ONLCR) && (t.c_iflag & ICRNL) && t.c_cc[VINTR] == 3);

	/* ECHO off: input arrives, nothing comes back. */
	t.c_lflag &= ~ECHO;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(m, "quiet\n", 6) == 6);
	char buf[64];
	CHECK(read(s, buf, sizeof buf) == 6);
	CHECK(!pending(m));
	/* ICRNL: a carriage return arrives as a newline. */
	CHECK(write(m, "cr\r", 3) == 3);
	CHECK(read(s, buf, sizeof buf) == 3 && memcmp(buf, "cr\n", 3) == 0);
	/* ISIG off: ^C is data. */
	t.c_lflag &= ~(ISIG | ICANON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(m, "\x03", 1) == 1);
	CHECK(read(s, buf, sizeof buf) == 1 && buf[0] == 3);
	t.c_lflag |= ISIG | ICANON | ECHO;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));

	/* A session on the terminal: ^Z stops its foreground job, SIGWINCH reaches it. */
	int sync[2];
	CHECK_OK(pipe(sync));
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		if (ioctl(s, TIOCSCTTY, 0) != 0)
			_exit(2);
		signal(SIGWINCH, on_winch);
		write(sync[1], "r", 1);
		while (!winched)
			pause();
		write(sync[1], "w", 1);
		for (;;)
			pause();
	}
	CHECK(read(sync[0], buf, 1) == 1);
	struct winsize ws = { .ws_row = 10, .ws_col = 20 };
	CHECK_OK(ioctl(m, TIOCSWINSZ, &ws));
	CHECK(read(sync[0], buf, 1) == 1 && buf[0] == 'w');
	/* ^Z: the child leads its own session, so its process group is orphaned and SIGTSTP
	 * does not stop it (no one could continue it). */
	CHECK(write(m, "\x1a", 1) == 1);
	usleep(100000);
	int status;
	CHECK(waitpid(pid, &status, WUNTRACED | WNOHANG) == 0);
	/* Not the session's terminal for us: TIOCSPGRP is ENOTTY. */
	pid_t pg = getpgrp();
	CHECK_ERR(ioctl(s, TIOCSPGRP, &pg), ENOTTY);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	/* Closing the master hangs the slave up: reads give 0 (EOF), writes EIO. */
	close(m);
	CHECK(read(s, buf, sizeof buf) <= 0);
	CHECK_ERR(write(s, "x", 1), EIO);
	close(s);
	return failures != 0;
}

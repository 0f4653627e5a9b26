/* Job control on a terminal: a background process group reading gets SIGTTIN (EIO when it
 * ignores it, EINTR with a handler), writing is allowed until TOSTOP, changing the modes
 * sends SIGTTOU unless ignored; a background group may take the foreground with SIGTTOU
 * ignored; an orphaned group reading gets EIO; TIOCGSID, TIOCNOTTY, and TIOCGPTPEER. */
#include "check.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static volatile sig_atomic_t got;
static void on_sig(int sig)
{
	got = sig;
}

static void handle(int sig, void (*h)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h; /* no SA_RESTART */
	sigaction(sig, &sa, NULL);
}

/* The background job: returns a mask of failed checks. */
static int background(int s)
{
	int bad = 0;
	char c;
	if (setpgid(0, 0) != 0)
		return 1 << 15;
	handle(SIGTTIN, SIG_IGN);
	if (read(s, &c, 1) != -1 || errno != EIO)
		bad |= 1;
	got = 0;
	handle(SIGTTIN, on_sig);
	if (read(s, &c, 1) != -1 || errno != EINTR || got != SIGTTIN)
		bad |= 2;
	/* Writing: fine without TOSTOP. */
	if (write(s, "w", 1) != 1)
		bad |= 4;
	/* Changing the modes: SIGTTOU. */
	struct termios t;
	tcgetattr(s, &t);
	got = 0;
	handle(SIGTTOU, on_sig);
	if (tcsetattr(s, TCSANOW, &t) != -1 || errno != EINTR || got != SIGTTOU)
		bad |= 8;
	/* With TOSTOP (set by the session leader, told through the terminal's modes), writes
	 * get SIGTTOU too. */
	while (!(tcgetattr(s, &t) == 0 && (t.c_lflag & TOSTOP)))
		usleep(1000);
	got = 0;
	if (write(s, "w", 1) != -1 || errno != EINTR || got != SIGTTOU)
		bad |= 16;
	handle(SIGTTOU, SIG_IGN);
	if (write(s, "w", 1) != 1)
		bad |= 32;
	/* Ignoring SIGTTOU, a background group may take the terminal. */
	if (tcsetpgrp(s, getpgrp()) != 0 || tcgetpgrp(s) != getpgrp())
		bad |= 64;
	/* Now in the foreground: reads are fine (nothing to read: O_NONBLOCK says EAGAIN). */
	fcntl(s, F_SETFL, O_NONBLOCK);
	if (read(s, &c, 1) != -1 || errno != EAGAIN)
		bad |= 128;
	return bad;
}

/* The session leader; returns a mask of failed checks. */
static int leader(const char *name)
{
	int bad = 0;
	if (setsid() < 0)
		return 1 << 14;
	int s = open(name, O_RDWR); /* becomes the controlling terminal */
	if (s < 0)
		return 1 << 13;
	pid_t sid = -1;
	if (ioctl(s, TIOCGSID, &sid) != 0 || sid != getpid())
		bad |= 256;
	if (tcgetpgrp(s) != getpid())
		bad |= 512;
	pid_t g = fork();
	if (g == 0)
		_exit(background(s));
	usleep(100000);
	struct termios t;
	tcgetattr(s, &t);
	t.c_lflag |= TOSTOP;
	tcsetattr(s, TCSANOW, &t);
	int status;
	if (waitpid(g, &status, 0) != g || !WIFEXITED(status))
		return 1 << 12;
	bad |= WEXITSTATUS(status);
	/* The leader is now in the background, and its group is orphaned (its parent is in
	 * another session): reading is EIO, no signal. */
	char c;
	got = 0;
	handle(SIGTTIN, on_sig);
	if (read(s, &c, 1) != -1 || errno != EIO || got != 0)
		bad |= 1024;
	/* Give the terminal up: /dev/tty no longer opens. */
	handle(SIGHUP, SIG_IGN);
	if (ioctl(s, TIOCNOTTY) != 0)
		bad |= 2048;
	if (open("/dev/tty", O_RDWR) != -1 || errno != ENXIO)
		bad |= 4096;
	return bad;
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	const char *name = ptsname(m);
	CHECK(name != NULL);
	if (!name)
		DONE();
	char path[64];
	snprintf(path, sizeof path, "%s", name);

	/* TIOCGPTPEER opens the slave from the master. */
	int ptn = -1;
	CHECK_OK(ioctl(m, TIOCGPTN, &ptn));
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	CHECK(peer >= 0);
	struct stat st;
	CHECK_OK(fstat(peer, &st));
	CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 && (int)minor(st.st_rdev) == ptn);
	CHECK(write(peer, "p", 1) == 1);
	char c;
	CHECK(read(m, &c, 1) == 1 && c == 'p');
	close(peer);
	/* A locked pty's peer does not open. */
	int lock = 1;
	CHECK_OK(ioctl(m, TIOCSPTLCK, &lock));
	CHECK_ERR(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY), EIO);
	lock = 0;
	CHECK_OK(ioctl(m, TIOCSPTLCK, &lock));
	

	pid_t pid = fork();
	if (pid == 0)
		_exit(leader(path));
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "job control checks failed: mask %#x\n", WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	DONE();
}

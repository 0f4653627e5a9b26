/* The line discipline's editing: erase (^?), kill (^U), word erase (^W), literal next (^V),
 * EOF (^D) mid-line, an extra end-of-line character, CR handling (ICRNL, IGNCR), ISTRIP,
 * the echo forms (ECHOE, ECHOKE, ECHOCTL), FIONREAD counting only complete lines in canonical
 * mode, tcflush, non-canonical VMIN/VTIME reads, and output without OPOST. */
#include "check.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

/* Read from fd until exactly `want` has come (within a second); 1 if it did. */
static int expect(int fd, const char *want)
{
	char buf[256];
	size_t n = strlen(want), got = 0;
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			break;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += r;
	}
	if (got != n || memcmp(buf, want, n) != 0) {
		fprintf(stderr, "expected %zu bytes, got %zu: \"", n, got);
		for (size_t i = 0; i < got; i++)
			fprintf(stderr, buf[i] < 32 || buf[i] > 126 ? "\\x%02x" : "%c",
				(unsigned char)buf[i]);
		fprintf(stderr, "\"\n");
		return 0;
	}
	return 1;
}

static int quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 50) == 0;
}

/* Write to the master, then read one line (or up to n bytes) from the slave. */
static ssize_t line(int m, int s, const char *in, char *out, size_t n)
{
	if (write(m, in, strlen(in)) != (ssize_t)strlen(in))
		return -2;
	ssize_t r = read(s, out, n);
	if (r >= 0)
		out[r] = 0;
	return r;
}

int main(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	struct termios t0, t;
	CHECK_OK(tcgetattr(s, &t0));
	CHECK((t0.c_lflag & (ECHOE | ECHOK | ECHOKE | ECHOCTL | IEXTEN)) ==
	      (ECHOE | ECHOK | ECHOKE | ECHOCTL | IEXTEN));
	CHECK(t0.c_cc[VERASE] == 0x7f && t0.c_cc[VKILL] == 0x15 && t0.c_cc[VWERASE] == 0x17 &&
	      t0.c_cc[VLNEXT] == 0x16 && t0.c_cc[VEOF] == 4);
	CHECK(cfgetospeed(&t0) == B38400);
	char b[256];

	/* Erase, echoed as backspace-space-backspace. */
	CHECK(line(m, s, "abc\x7f" "d\n", b, sizeof b) == 4 && !strcmp(b, "abd\n"));
	CHECK(expect(m, "abc\b \bd\r\n"));
	/* Kill the line (ECHOKE erases it on screen). */
	CHECK(line(m, s, "xyz\x15ok\n", b, sizeof b) == 3 && !strcmp(b, "ok\n"));
	CHECK(expect(m, "xyz\b \b\b \b\b \bok\r\n"));
	/* Word erase. */
	CHECK(line(m, s, "foo bar\x17" "baz\n", b, sizeof b) == 8 && !strcmp(b, "foo baz\n"));
	CHECK(expect(m, "foo bar\b \b\b \b\b \bbaz\r\n"));
	/* Literal next: the erase character goes in as data, echoed as ^?. */
	CHECK(line(m, s, "a\x16\x7f" "b\n", b, sizeof b) == 4 && !memcmp(b, "a\x7f" "b\n", 4));
	CHECK(expect(m, "a^\b^?b\r\n"));
	/* Control characters echo as ^X. */
	CHECK(line(m, s, "a\x01" "b\n", b, sizeof b) == 4 && !memcmp(b, "a\x01" "b\n", 4));
	CHECK(expect(m, "a^Ab\r\n"));
	/* EOF mid-line ends the read without a newline; at the start of a line, read gives 0. */
	CHECK(line(m, s, "hi\x04", b, sizeof b) == 2 && !strcmp(b, "hi"));
	CHECK(line(m, s, "\x04", b, sizeof b) == 0);
	CHECK(expect(m, "hi"));
	/* CR becomes NL (ICRNL). */
	CHECK(line(m, s, "cr\r", b, sizeof b) == 3 && !strcmp(b, "cr\n"));
	CHECK(expect(m, "cr\r\n"));

	/* An extra end-of-line character, kept in the data; IGNCR drops CRs. */
	t = t0;
	t.c_cc[VEOL] = '!';
	t.c_iflag |= IGNCR;
	t.c_lflag &= ~ECHO;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(line(m, s, "ab!", b, sizeof b) == 3 && !strcmp(b, "ab!"));
	CHECK(line(m, s, "x\ry\n", b, sizeof b) == 3 && !strcmp(b, "xy\n"));
	CHECK(quiet(m));

	/* FIONREAD counts complete lines only in canonical mode. */
	int n = -1;
	CHECK(write(m, "part", 4) == 4);
	usleep(50000);
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK(n == 0);
	CHECK(write(m, "ial\n", 4) == 4);
	struct pollfd p = { .fd = s, .events = POLLIN };
	CHECK(poll(&p, 1, 1000) == 1);
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK(n == 8);
	/* tcflush drops what was not read. */
	CHECK_OK(tcflush(s, TCIFLUSH));
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK(n == 0);
	CHECK_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(s, b, sizeof b), EAGAIN);
	CHECK_OK(fcntl(s, F_SETFL, 0));

	/* Non-canonical: bytes as they come, ISTRIP, VMIN/VTIME. */
	t = t0;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_iflag |= ISTRIP;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(line(m, s, "\xe9", b, sizeof b) == 1 && (unsigned char)b[0] == 0x69);
	CHECK(write(m, "abc", 3) == 3);
	CHECK(poll(&p, 1, 1000) == 1);
	usleep(20000);
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK(n == 3);
	CHECK(read(s, b, sizeof b) == 3);
	/* VMIN 0, VTIME 0: no data is a read of 0 at once. */
	t.c_cc[VMIN] = 0;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(read(s, b, sizeof b) == 0);
	/* VMIN 0, VTIME 2: 0 after about 0.2 s. */
	t.c_cc[VTIME] = 2;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	struct timespec a0, a1;
	clock_gettime(CLOCK_MONOTONIC, &a0);
	CHECK(read(s, b, sizeof b) == 0);
	clock_gettime(CLOCK_MONOTONIC, &a1);
	long ms = (a1.tv_sec - a0.tv_sec) * 1000 + (a1.tv_nsec - a0.tv_nsec) / 1000000;
	CHECK(ms >= 150 && ms < 2000);

	/* Output: ONLCR maps NL to CR NL; without OPOST bytes pass as written. */
	CHECK_OK(tcsetattr(s, TCSANOW, &t0));
	CHECK(write(s, "a\nb", 3) == 3);
	CHECK(expect(m, "a\r\nb"));
	t = t0;
	t.c_oflag &= ~OPOST;
	CHECK_OK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(s, "a\nb", 3) == 3);
	CHECK(expect(m, "a\nb"));
	/* TIOCOUTQ on the slave: nothing is waiting once the master read it all. */
	CHECK_OK(ioctl(s, TIOCOUTQ, &n));
	CHECK(n == 0);

	close(s);
	close(m);
	DONE();
}

/* Shared checks for the syscall compatibility suite. Each test program runs natively and
 * under palisade; it prints every failed check and exits 1 if any failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed (errno %d: %s)\n", __FILE__,  \
				__LINE__, #cond, errno, strerror(errno));                  \
			failures++;                                                        \
		}                                                                          \
	} while (0)

/* The call must fail with -1 and exactly this errno. */
#define CHECK_ERR(expr, err)                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long _r = (long)(expr);                                                    \
		if (_r != -1 || errno != (err)) {                                          \
			fprintf(stderr, "%s:%d: %s = %ld errno %d (%s), want -1 errno %d (%s)\n",  \
				__FILE__, __LINE__, #expr, _r, errno, strerror(errno), (err),      \
				strerror(err));                                            \
			failures++;                                                        \
		}                                                                          \
	} while (0)

/* The call must succeed (not return -1). */
#define CHECK_OK(expr)                                                                     \
	do {                                                                               \
		errno = 0;                                                                 \
		long _r = (long)(expr);                                                    \
		if (_r == -1) {                                                            \
			fprintf(stderr, "%s:%d: %s failed: errno %d (%s)\n", __FILE__, __LINE__,   \
				#expr, errno, strerror(errno));                            \
			failures++;                                                        \
		}                                                                          \
	} while (0)

#define DONE() return failures ? 1 : 0

/* The fixtures directory the harness prepares (symlink loops, a non-ELF executable...). */
static inline const char *fixture(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("PALISADE_FIXTURES");
	snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "fixtures", name);
	return buf;
}

/* Read a whole (small) file into buf, NUL-terminated: its length, or -1. */
static inline int read_text(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t got = 0;
	ssize_t r;
	while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += r;
	close(fd);
	buf[got] = 0;
	return (int)got;
}

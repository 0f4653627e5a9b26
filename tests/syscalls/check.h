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
#include <sys/wait.h>
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

/* A fresh scratch directory, /tmp/palisade-<tag>-<pid>, for a program's files; S("rel") names
 * a path inside it (eight rotating buffers, so a call can take several). */
#include <ftw.h>
static inline char *scratch_base(void)
{
	static char base[96];
	return base;
}

static inline void scratch_init(const char *tag)
{
	snprintf(scratch_base(), 96, "/tmp/palisade-%s-%d", tag, getpid());
	if (mkdir(scratch_base(), 0777) != 0) {
		perror("scratch mkdir");
		exit(2);
	}
}

static inline const char *S(const char *rel)
{
	static char bufs[8][256];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 256, "%s/%s", scratch_base(), rel);
	return b;
}

static inline int scratch_rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove the scratch directory and everything in it (without following symlinks). */
static inline void scratch_cleanup(void)
{
	chmod(scratch_base(), 0777);
	nftw(scratch_base(), scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create (or truncate) a file holding text; 0 or -1. */
static inline int put_text(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Run fn in a child process and check that it exits 0 (printing its status if not). */
static inline void check_child(int (*fn)(void), const char *name)
{
	pid_t c = fork();
	if (c == 0)
		_exit(fn());
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	if (WEXITSTATUS(st))
		fprintf(stderr, "%s: %#x\n", name, WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
}

/* A read-write file on /dev/shm (tmpfs), already unlinked; `tag` names it while it exists. */
static inline int shm_tmpfd(const char *tag)
{
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/palisade-%s-%d", tag, getpid());
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd >= 0);
	CHECK_OK(unlink(path));
	return fd;
}

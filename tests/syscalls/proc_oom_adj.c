/* /proc/<pid>/oom_score_adj and oom_adj: the range (-1000..1000, EINVAL outside, and for
 * text that is not a number), the legacy oom_adj scale kept in step, going below the
 * process's floor needs CAP_SYS_RESOURCE (EACCES; a privileged write sets the floor),
 * children inherit the value, and oom_score is in 0..2000 (0 at -1000). */
#include "check.h"
#include <sys/prctl.h>
#include <sys/wait.h>

static int put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, v, strlen(v));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static long get(const char *path)
{
	char b[64];
	if (read_text(path, b, sizeof b) <= 0)
		return -99999;
	return strtol(b, NULL, 10);
}

static int unprivileged(void)
{
	if (setresuid(1000, 1000, 1000))
		return 99;
	/* setuid made us undumpable, which gives our /proc files to root: take them back. */
	if (prctl(PR_SET_DUMPABLE, 1))
		return 98;
	int bad = 0;
	/* Up and back down to the floor (0, inherited) is fine; below it needs
	 * CAP_SYS_RESOURCE. */
	if (put("/proc/self/oom_score_adj", "600") != 0)
		bad |= 1;
	if (put("/proc/self/oom_score_adj", "0") != 0)
		bad |= 2;
	if (put("/proc/self/oom_score_adj", "-1") != -1 || errno != EACCES)
		bad |= 4;
	if (put("/proc/self/oom_adj", "-1") != -1 || errno != EACCES)
		bad |= 8;
	if (get("/proc/self/oom_score_adj") != 0)
		bad |= 16;
	return bad;
}

/* Whether we have CAP_SYS_RESOURCE (root in a container may not). */
static int have_sys_resource(void)
{
	char b[4096];
	if (read_text("/proc/self/status", b, sizeof b) <= 0)
		return 0;
	char *c = strstr(b, "CapEff:");
	return c && (strtoull(c + 7, NULL, 16) >> 24 & 1);
}

int main(void)
{
	const char *adj = "/proc/self/oom_score_adj";
	CHECK(get(adj) == 0);
	CHECK_OK(put(adj, "500"));
	CHECK(get(adj) == 500);
	CHECK(get("/proc/self/oom_adj") == 8); /* 500 * 17 / 1000 */
	int cap = have_sys_resource();
	if (cap) {
		CHECK_OK(put(adj, "-1000"));
		CHECK(get("/proc/self/oom_adj") == -17);
		CHECK(get("/proc/self/oom_score") == 0); /* never chosen */
	} else {
		CHECK(put(adj, "-1000") == -1 && errno == EACCES);
	}
	CHECK_OK(put(adj, "1000\n"));
	CHECK(get("/proc/self/oom_adj") == 15);
	CHECK(put(adj, "1001") == -1 && errno == EINVAL);
	CHECK(put(adj, "-1001") == -1 && errno == EINVAL);
	CHECK(put(adj, "abc") == -1 && errno == EINVAL);
	CHECK(get(adj) == 1000);
	/* The legacy file: -17..15, mapped onto the new scale; without CAP_SYS_RESOURCE it may
	 * not lower the value at all. */
	if (cap) {
		CHECK_OK(put("/proc/self/oom_adj", "10"));
		CHECK(get(adj) == 588); /* 10 * 1000 / 17 */
		CHECK_OK(put("/proc/self/oom_adj", "-17"));
		CHECK(get(adj) == -1000);
	} else {
		CHECK(put("/proc/self/oom_adj", "10") == -1 && errno == EACCES);
	}
	CHECK_OK(put("/proc/self/oom_adj", "15"));
	CHECK(get(adj) == 1000);
	CHECK(put("/proc/self/oom_adj", "16") == -1 && errno == EINVAL);
	long score = get("/proc/self/oom_score");
	CHECK(score >= 0 && score <= 2000);

	/* Inherited by children. */
	CHECK_OK(put(adj, "0"));
	CHECK_OK(put(adj, "300"));
	pid_t c = fork();
	if (c == 0)
		_exit(get("/proc/self/oom_score_adj") == 300 ? 0 : 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_OK(put(adj, "0"));

	c = fork();
	if (c == 0)
		_exit(unprivileged());
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st));
	if (WEXITSTATUS(st))
		fprintf(stderr, "unprivileged: %#x\n", WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == 0);
	DONE();
}

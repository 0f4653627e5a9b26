/* What root may do past the mode bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
 * read and write files of mode 0, search and list directories of mode 0, but execute only a
 * file with some execute bit; and what it loses with those capabilities dropped. */
#include "check.h"
#include <linux/capability.h>
#include <sys/wait.h>

static int drop_dac(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		d[i].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) |
				    (1u << CAP_FOWNER));
	}
	return (int)syscall(SYS_capset, &h, d);
}

int main(void)
{
	scratch_init("rootdac");
	const char *f = S("f");
	CHECK_OK(put_text(f, "#!/bin/sh\nexit 0\n"));
	CHECK_OK(chmod(f, 0));
	CHECK_OK(chown(f, 1000, 1000));
	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	close(fd);
	CHECK_OK(access(f, R_OK | W_OK));
	CHECK_ERR(access(f, X_OK), EACCES);
	CHECK_ERR(execl(f, f, (char *)NULL), EACCES);
	/* Any execute bit is enough for root. */
	CHECK_OK(chmod(f, 0001));
	CHECK_OK(access(f, X_OK));

	/* A directory of mode 0: root lists and searches it. */
	CHECK_OK(mkdir(S("d"), 0755));
	CHECK_OK(put_text(S("d/in"), "in"));
	CHECK_OK(chmod(S("d"), 0));
	CHECK_OK(access(S("d/in"), R_OK));
	int dfd = open(S("d"), O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	close(dfd);
	CHECK_OK(access(S("d"), X_OK)); /* directories: search is always granted */

	/* CAP_FOWNER: chmod of another user's file. */
	CHECK_OK(chmod(f, 0644));

	/* Without the capabilities (still uid 0), the mode bits rule. */
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (drop_dac() != 0)
			_exit(99);
		if (open(f, O_WRONLY) != -1 || errno != EACCES)
			bad |= 1;
		if (open(S("d/in"), O_RDONLY) != -1 || errno != EACCES)
			bad |= 2;
		if (chmod(f, 0600) != -1 || errno != EPERM)
			bad |= 4;
		if (open(f, O_RDONLY) < 0)
			bad |= 8; /* 0644: others may read */
		_exit(bad);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	if (WEXITSTATUS(status))
		fprintf(stderr, "without DAC capabilities: mask %d\n", WEXITSTATUS(status));
	CHECK(WEXITSTATUS(status) == 0);

	CHECK_OK(chmod(S("d"), 0755));
	scratch_cleanup();
	DONE();
}

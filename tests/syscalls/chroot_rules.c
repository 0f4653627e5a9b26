/* chroot: only with CAP_SYS_CHROOT (EPERM without), only to a directory (ENOTDIR, ENOENT);
 * afterwards absolute paths and ".." stop at the new root, /proc/<pid>/root names it, getcwd
 * of a directory left outside says "(unreachable)", a descriptor opened before still reaches
 * outside (chroot is not a jail for root, as on Linux), and children inherit the root. */
#include "check.h"
#include <sys/wait.h>

int main(void)
{
	scratch_init("chroot");
	const char *base = scratch_base();
	CHECK_OK(mkdir(S("jail"), 0755));
	CHECK_OK(mkdir(S("jail/sub"), 0755));
	CHECK_OK(put_text(S("jail/inside"), "inside"));
	CHECK_OK(put_text(S("outside"), "outside"));
	char *jail = strdup(S("jail"));
	CHECK_ERR(chroot(S("outside")), ENOTDIR);
	CHECK_ERR(chroot(S("missing")), ENOENT);

	/* Without the capability. */
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(chroot(jail) == -1 && errno == EPERM ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	int sync[2], back[2];
	CHECK_OK(pipe(sync));
	CHECK_OK(pipe(back));
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		int out = open(base, O_RDONLY | O_DIRECTORY);
		if (chdir(jail) || chroot("."))
			_exit(100);
		char buf[256];
		/* "/" and ".." of "/" are the jail. */
		if (read_text("/inside", buf, sizeof buf) != 6)
			bad |= 1;
		if (read_text("/../../inside", buf, sizeof buf) != 6)
			bad |= 2;
		if (access("/outside", F_OK) != -1 || errno != ENOENT)
			bad |= 4;
		/* (No /proc in here: the parent reads our root link.) */
		char c = 'r';
		if (write(sync[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			bad |= 8;
		if (chdir("/sub") || !getcwd(buf, sizeof buf) || strcmp(buf, "/sub"))
			bad |= 16;
		/* The descriptor from before still reaches outside. */
		int fd = openat(out, "outside", O_RDONLY);
		if (fd < 0)
			bad |= 32;
		close(fd);
		/* A working directory outside the root: getcwd says so. */
		if (fchdir(out))
			bad |= 64;
		long r = syscall(SYS_getcwd, buf, sizeof buf);
		if (r <= 0 || strncmp(buf, "(unreachable)", 13) != 0)
			bad |= 128;
		/* Children inherit the root. */
		pid_t kid = fork();
		if (kid == 0)
			_exit(access("/inside", F_OK) == 0 && access("/sub", F_OK) == 0 ? 0 : 1);
		int ks;
		if (waitpid(kid, &ks, 0) != kid || !WIFEXITED(ks) || WEXITSTATUS(ks))
			bad |= 256;
		_exit(bad & 0xff ? bad & 0xff : bad >> 8 ? 200 : 0);
	}
	char c, root[256], want[256];
	CHECK(read(sync[0], &c, 1) == 1);
	snprintf(want, sizeof want, "/proc/%d/root", pid);
	ssize_t n = readlink(want, root, sizeof root - 1);
	CHECK(n > 0 && (root[n] = 0, strcmp(root, jail) == 0));
	CHECK(write(back[1], "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "jailed child: %#x\n", WEXITSTATUS(st));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	scratch_cleanup();
	DONE();
}

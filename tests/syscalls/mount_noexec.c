/* Mount flags that restrict what a file system's files may do: on a noexec mount execve is
 * EACCES, access(X_OK) is EACCES, mmap with PROT_EXEC is EPERM and mprotect adding it is
 * EACCES, while reading still works; on a nodev mount a device node can be made but not
 * opened (EACCES); statfs and mountinfo report both; a remount lifts them. */
#include "check.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

/* Copy this program to `path` (mode 0755). */
static int copy_self(const char *path)
{
	int in = open("/proc/self/exe", O_RDONLY), out = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		return -1;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return 0;
}

/* Exec `path` with argument "child" in a child: the exec's errno, or 0 if it ran and exited 0. */
static int try_exec(const char *path)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		execl(path, path, "child", (char *)NULL);
		int e = errno;
		write(p[1], &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	if (read(p[0], &e, sizeof e) != sizeof e)
		e = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	if (e)
		return e;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -2;
}

static int has_opt(const char *mnt, const char *opt)
{
	char buf[65536];
	if (read_text("/proc/self/mountinfo", buf, sizeof buf) <= 0)
		return -1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char point[512], opts[512];
		if (sscanf(line, "%*d %*d %*s %*s %511s %511s", point, opts) != 2 || strcmp(point, mnt))
			continue;
		char *o = strstr(opts, opt);
		size_t n = strlen(opt);
		return o && (o == opts || o[-1] == ',') && (o[n] == ',' || o[n] == 0);
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return 0;
	/* Natively, keep the mount out of the host's namespace (the sandbox has its own). */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("noexec");
	const char *m = scratch_base();
	CHECK_OK(mount("none", m, "tmpfs", MS_NOEXEC | MS_NODEV, "mode=755"));
	char prog[256];
	snprintf(prog, sizeof prog, "%s/prog", m);
	CHECK_OK(copy_self(prog));

	CHECK(try_exec(prog) == EACCES);
	CHECK_ERR(access(prog, X_OK), EACCES);
	CHECK_OK(access(prog, R_OK));
	int fd = open(prog, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_ERR(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0), EPERM);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED && memcmp(p, "\177ELF", 4) == 0);
	CHECK_ERR(mprotect(p, 4096, PROT_READ | PROT_EXEC), EACCES);
	munmap(p, 4096);
	/* Anonymous memory is not the mount's: PROT_EXEC is fine there. */
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, 4096);

	/* nodev: the node is made, but opening it is EACCES. */
	char dev[256];
	snprintf(dev, sizeof dev, "%s/null", m);
	CHECK_OK(mknod(dev, S_IFCHR | 0666, makedev(1, 3)));
	CHECK_ERR(open(dev, O_WRONLY), EACCES);
	/* A fifo is not a device. */
	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/fifo", m);
	CHECK_OK(mkfifo(fifo, 0644));
	int ff = open(fifo, O_RDONLY | O_NONBLOCK);
	CHECK(ff >= 0);
	close(ff);

	struct statvfs sv;
	CHECK_OK(statvfs(m, &sv));
	CHECK((sv.f_flag & ST_NOEXEC) && (sv.f_flag & ST_NODEV) && !(sv.f_flag & ST_NOSUID));
	CHECK(has_opt(m, "noexec") == 1 && has_opt(m, "nodev") == 1);

	/* Remount without them. */
	CHECK_OK(mount(NULL, m, NULL, MS_REMOUNT, NULL));
	CHECK(try_exec(prog) == 0);
	CHECK_OK(access(prog, X_OK));
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, 4096);
	int d = open(dev, O_WRONLY);
	CHECK(d >= 0 && write(d, "x", 1) == 1);
	close(d);
	CHECK_OK(statvfs(m, &sv));
	CHECK(!(sv.f_flag & ST_NOEXEC) && !(sv.f_flag & ST_NODEV));
	CHECK(has_opt(m, "noexec") == 0);
	close(fd);

	CHECK_OK(umount2(m, 0));
	CHECK_OK(rmdir(m));
	DONE();
}

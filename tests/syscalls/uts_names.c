/* sethostname, setdomainname and the names uname, gethostname, getdomainname and
 * /proc/sys/kernel/{hostname,domainname} report; EINVAL past 64 bytes or for a negative
 * length, EFAULT for a bad buffer, EPERM without CAP_SYS_ADMIN. */
#include "check.h"
#include <sched.h>
#include <sys/utsname.h>

static void proc_name(const char *file, char *out, size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/sys/kernel/%s", file);
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(out, n, f))
			out[0] = 0;
		fclose(f);
	}
}

int main(void)
{
	/* Natively, change the names of a UTS namespace of our own (the sandbox is one). */
	if (unshare(CLONE_NEWUTS) != 0 && errno != ENOSYS) {
		fprintf(stderr, "unshare(CLONE_NEWUTS): %s\n", strerror(errno));
		return 1;
	}
	struct utsname u;
	char buf[128];

	CHECK_OK(sethostname("palisade-test", 13));
	CHECK_OK(setdomainname("example.org", 11));
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.nodename, "palisade-test") == 0);
	CHECK(strcmp(u.domainname, "example.org") == 0);
	CHECK_OK(gethostname(buf, sizeof buf));
	CHECK(strcmp(buf, "palisade-test") == 0);
	CHECK_OK(getdomainname(buf, sizeof buf));
	CHECK(strcmp(buf, "example.org") == 0);
	proc_name("hostname", buf, sizeof buf);
	CHECK(strcmp(buf, "palisade-test\n") == 0);
	proc_name("domainname", buf, sizeof buf);
	CHECK(strcmp(buf, "example.org\n") == 0);

	/* Only the given bytes count; 64 is the most. */
	CHECK_OK(sethostname("abcdefgh", 3));
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.nodename, "abc") == 0);
	char long_name[80];
	memset(long_name, 'x', sizeof long_name);
	CHECK_OK(sethostname(long_name, 64));
	CHECK_OK(uname(&u));
	CHECK(strlen(u.nodename) == 64);
	CHECK_ERR(sethostname(long_name, 65), EINVAL);
	CHECK_ERR(setdomainname(long_name, 65), EINVAL);
	CHECK_ERR(syscall(SYS_sethostname, long_name, -1), EINVAL);
	CHECK_ERR(syscall(SYS_sethostname, 8L, 5L), EFAULT);
	CHECK_ERR(syscall(SYS_setdomainname, 8L, 5L), EFAULT);

	/* A write to the proc file sets the name up to the newline. */
	int fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	CHECK(fd >= 0);
	CHECK(write(fd, "from-proc\nignored", 17) == 17);
	close(fd);
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.nodename, "from-proc") == 0);

	/* Without CAP_SYS_ADMIN: EPERM, even for a bad buffer; the name stays. */
	pid_t p = fork();
	if (p == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		if (sethostname("nobody", 6) != -1 || errno != EPERM)
			_exit(3);
		if (syscall(SYS_setdomainname, 8L, 65L) != -1 || errno != EPERM)
			_exit(4);
		_exit(0);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.nodename, "from-proc") == 0);
	DONE();
}

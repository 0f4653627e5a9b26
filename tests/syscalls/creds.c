#include "check.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int child(void)
{
	/* Runs as root: drop to 1000 step by step, as a daemon would. */
	int f = 0;
	uid_t r, e, s;
	gid_t groups[2] = { 10, 20 };
	f |= setgroups(2, groups) != 0;
	gid_t got[4];
	f |= getgroups(4, got) != 2 || got[1] != 20;
	f |= setresgid(100, 100, 100) != 0;
	f |= setresuid(1000, 1000, 0) != 0; /* keep saved root */
	f |= getresuid(&r, &e, &s) != 0 || r != 1000 || e != 1000 || s != 0;
	f |= seteuid(0) != 0;                 /* allowed: saved uid is 0 */
	f |= geteuid() != 0;
	f |= setresuid(1000, 1000, 1000) != 0;
	f |= setuid(0) != -1 || errno != EPERM; /* no way back */
	f |= setgroups(0, NULL) != -1 || errno != EPERM;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	f |= syscall(SYS_capget, &h, d) != 0;
	f |= d[0].effective != 0 || d[0].permitted != 0; /* capabilities are gone */
	f |= setuid(1000) != 0;                          /* to our own uid is fine */
	return f;
}

int main(void)
{
	CHECK(getuid() == 0); /* the suite runs as root, natively and sandboxed */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	CHECK_OK(syscall(SYS_capget, &h, d));
	CHECK(d[0].effective & (1 << CAP_SETUID));
	h.version = 0x1234;
	CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
	CHECK(h.version == _LINUX_CAPABILITY_VERSION_3);
	pid_t p = fork();
	if (p == 0)
		_exit(child());
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* KEEPCAPS keeps the permitted set across the uid change. */
	p = fork();
	if (p == 0) {
		prctl(PR_SET_KEEPCAPS, 1);
		setresuid(1000, 1000, 1000);
		struct __user_cap_header_struct hh = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct dd[2];
		syscall(SYS_capget, &hh, dd);
		_exit(dd[0].permitted != 0 && dd[0].effective == 0 ? 0 : 1);
	}
	CHECK(waitpid(p, &st, 0) == p && WEXITSTATUS(st) == 0);
	DONE();
}

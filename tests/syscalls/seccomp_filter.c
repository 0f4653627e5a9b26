/* seccomp: strict and filter modes, argument checks, actions and their precedence, TRAP's
 * siginfo, inheritance across fork, and the errors of bad programs and calls. */
#include "check.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

static long sc(unsigned op, unsigned flags, void *args)
{
	return syscall(SYS_seccomp, op, flags, args);
}

static long install(struct sock_filter *f, unsigned short n, unsigned flags)
{
	struct sock_fprog p = { .len = n, .filter = f };
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static volatile siginfo_t trapped;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	trapped = *si;
}

/* Run `f` in a child; its wait status. */
static int in_child(void (*f)(void))
{
	pid_t p = fork();
	if (p == 0) {
		f();
		_exit(failures ? 1 : 0);
	}
	int st = -1;
	waitpid(p, &st, 0);
	return st;
}

static void filters(void)
{
	CHECK(prctl(PR_GET_SECCOMP) == 0);
	CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	/* getppid -> ENOMSG; getuid -> TRAP(7); write(99, ...) -> EBADMSG; else allow. */
	struct sock_filter f[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		RET(SECCOMP_RET_ERRNO | ENOMSG),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
		RET(SECCOMP_RET_TRAP | 7),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 99, 0, 1),
		RET(SECCOMP_RET_ERRNO | EBADMSG),
		RET(SECCOMP_RET_ALLOW),
	};
	CHECK(install(f, sizeof f / sizeof f[0], 0) == 0);
	CHECK(prctl(PR_GET_SECCOMP) == 2);
	CHECK_ERR(syscall(SYS_getppid), ENOMSG);
	CHECK_ERR(write(99, "x", 1), EBADMSG);
	CHECK_ERR(write(98, "x", 1), EBADF);
	CHECK(getpid() > 0);
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	CHECK_OK(sigaction(SIGSYS, &sa, NULL));
	/* The call is skipped; the handler sees (and returns with) the original registers. */
	CHECK(syscall(SYS_getuid) == SYS_getuid);
	CHECK(trapped.si_signo == SIGSYS && trapped.si_code == SYS_SECCOMP);
	CHECK(trapped.si_syscall == SYS_getuid && trapped.si_arch == AUDIT_ARCH_X86_64);
	CHECK(trapped.si_errno == 7 && trapped.si_call_addr != NULL);
	/* A newer filter: ERRNO(EPERM) for getppid; the older ENOMSG and the newer EPERM are the
	 * same action, so the newest wins; for getuid the older TRAP wins over ERRNO. */
	struct sock_filter g[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
		RET(SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_ALLOW),
	};
	CHECK(install(g, sizeof g / sizeof g[0], 0) == 0);
	CHECK_ERR(syscall(SYS_getppid), EPERM);
	trapped.si_signo = 0;
	CHECK(syscall(SYS_getuid) == SYS_getuid);
	CHECK(trapped.si_signo == SIGSYS);
	/* A forked child keeps the filters. */
	pid_t p = fork();
	if (p == 0)
		_exit(syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Strict mode cannot follow a filter. */
	CHECK_ERR(sc(SECCOMP_SET_MODE_STRICT, 0, NULL), EINVAL);
}

static void killer(void)
{
	CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	struct sock_filter f[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	if (install(f, sizeof f / sizeof f[0], 0) != 0)
		_exit(3);
	syscall(SYS_getppid);
	_exit(4);
}

static void strict(void)
{
	if (sc(SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
		syscall(SYS_exit, 3);
	/* write and read are allowed; anything else kills. */
	if (write(-1, "", 0) != -1)
		syscall(SYS_exit, 4);
	syscall(SYS_getpid);
	syscall(SYS_exit, 5);
}

static void unprivileged(void)
{
	struct sock_filter f[] = { RET(SECCOMP_RET_ALLOW) };
	CHECK_OK(setresuid(65534, 65534, 65534));
	CHECK_ERR(install(f, 1, 0), EACCES);
}

int main(void)
{
	struct sock_filter bad_abs[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), RET(0) };
	struct sock_filter no_ret[] = { LD_NR };
	struct sock_filter div0[] = { BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(0) };
	struct sock_filter far[] = { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), RET(0) };
	struct sock_filter ok[] = { RET(SECCOMP_RET_ALLOW) };
	/* Bad programs and calls change nothing. */
	CHECK_ERR(install(ok, 0, 0), EINVAL);
	CHECK_ERR(install(bad_abs, 2, 0), EINVAL);
	CHECK_ERR(install(no_ret, 1, 0), EINVAL);
	CHECK_ERR(install(div0, 2, 0), EINVAL);
	CHECK_ERR(install(far, 2, 0), EINVAL);
	CHECK_ERR(install(ok, 1, 0x1000), EINVAL);
	CHECK_ERR(sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8), EFAULT);
	CHECK_ERR(sc(99, 0, NULL), EINVAL);
	CHECK_ERR(sc(SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
	unsigned action = SECCOMP_RET_ALLOW;
	CHECK_OK(sc(SECCOMP_GET_ACTION_AVAIL, 0, &action));
	action = SECCOMP_RET_KILL_PROCESS;
	CHECK_OK(sc(SECCOMP_GET_ACTION_AVAIL, 0, &action));
	action = 0x12340000;
	CHECK_ERR(sc(SECCOMP_GET_ACTION_AVAIL, 0, &action), EOPNOTSUPP);
	CHECK(prctl(PR_GET_SECCOMP) == 0);

	int st = in_child(filters);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(killer);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = in_child(strict);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = in_child(unprivileged);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fprintf(stderr, "unprivileged: status %#x\n", st);
	DONE();
}

/* /proc/self/status and /proc/self/stat as ps, top, psutil and language runtimes read them:
 * every field agrees with what the syscalls say (umask, credentials and groups, signal masks,
 * pending and queued signals, capabilities, no_new_privs, seccomp, affinity, threads, memory
 * sizes), and stat has all 52 fields with a start time inside the uptime. */
#include "check.h"
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static char status[16384];

static void load(void)
{
	CHECK(read_text("/proc/self/status", status, sizeof status) > 0);
}

/* The text after "\nKey:\t" up to the end of its line, or "" if absent. */
static const char *field(const char *key)
{
	static char val[512];
	char k[64];
	snprintf(k, sizeof k, "\n%s:\t", key);
	const char *p = strstr(status, k);
	if (!p && strncmp(status, k + 1, strlen(k + 1)) == 0)
		p = status - 1;
	val[0] = 0;
	if (!p)
		return val;
	p += strlen(k);
	size_t n = strcspn(p, "\n");
	if (n >= sizeof val)
		n = sizeof val - 1;
	memcpy(val, p, n);
	val[n] = 0;
	return val;
}

static unsigned long long hex(const char *key)
{
	return strtoull(field(key), NULL, 16);
}

static long kib(const char *key)
{
	return atol(field(key));
}

static void *sleeper(void *arg)
{
	pthread_barrier_wait(arg);
	pthread_barrier_wait(arg);
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
}

static int creds_child(void)
{
	gid_t groups[] = {5, 6, 7};
	if (setgroups(3, groups) || setresgid(10, 20, 30) || setresuid(1, 2, 3))
		return 99;
	load();
	CHECK(strcmp(field("Uid"), "1\t2\t3\t2") == 0);
	CHECK(strcmp(field("Gid"), "10\t20\t30\t20") == 0);
	int a, b, c;
	CHECK(sscanf(field("Groups"), "%d %d %d", &a, &b, &c) == 3 && a == 5 && b == 6 && c == 7);
	/* Not root any more: no effective or permitted capabilities. */
	CHECK(hex("CapEff") == 0 && hex("CapPrm") == 0);
	return failures;
}

static int seccomp_child(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {1, &allow};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return 99;
	load();
	CHECK(strcmp(field("NoNewPrivs"), "1") == 0);
	CHECK(strcmp(field("Seccomp"), "0") == 0);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 98;
	load();
	CHECK(strcmp(field("Seccomp"), "2") == 0);
	CHECK(strcmp(field("Seccomp_filters"), "1") == 0);
	return failures;
}

static int run(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0)
		_exit(fn());
	int st;
	return waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : 97;
}

int main(void)
{
	umask(027);
	load();
	CHECK(strcmp(field("Name"), "proc_status_fie") == 0);
	CHECK(strcmp(field("Umask"), "0027") == 0);
	CHECK(strncmp(field("State"), "R (running)", 11) == 0);
	CHECK(atoi(field("Tgid")) == getpid() && atoi(field("Pid")) == getpid());
	CHECK(atoi(field("PPid")) == getppid());
	CHECK(strcmp(field("TracerPid"), "0") == 0);
	CHECK(atoi(field("FDSize")) >= 64);
	CHECK(strcmp(field("Threads"), "1") == 0);
	CHECK(run(creds_child) == 0);
	CHECK(run(seccomp_child) == 0);

	/* Capabilities as capget reports them. */
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	CHECK_OK(syscall(SYS_capget, &h, d));
	unsigned long long eff = d[0].effective | (unsigned long long)d[1].effective << 32;
	unsigned long long prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	CHECK(hex("CapEff") == eff && hex("CapPrm") == prm);
	CHECK(strlen(field("CapBnd")) == 16 && (hex("CapBnd") & prm) == prm);
	CHECK(strcmp(field("CapAmb"), "0000000000000000") == 0);

	/* Signals: blocked, ignored, caught, pending for the thread and the process, queued. */
	struct rlimit rl = {1234, 1234};
	CHECK_OK(setrlimit(RLIMIT_SIGPENDING, &rl));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, on_term);
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2));
	union sigval v = {0};
	CHECK_OK(sigqueue(getpid(), SIGRTMIN + 1, v));
	CHECK_OK(sigqueue(getpid(), SIGRTMIN + 1, v));
	load();
	unsigned long long usr1 = 1ULL << (SIGUSR1 - 1), usr2 = 1ULL << (SIGUSR2 - 1);
	unsigned long long rt = 1ULL << (SIGRTMIN + 1 - 1);
	CHECK((hex("SigBlk") & (usr1 | usr2 | rt)) == (usr1 | usr2 | rt));
	CHECK((hex("SigIgn") & (1ULL << (SIGHUP - 1))) != 0);
	CHECK((hex("SigCgt") & (1ULL << (SIGTERM - 1))) != 0);
	CHECK((hex("SigCgt") & (1ULL << (SIGHUP - 1))) == 0);
	CHECK(hex("SigPnd") == usr2);
	CHECK(hex("ShdPnd") == (usr1 | rt));
	/* SigQ counts the signals queued for the user (any of its processes), over the limit. */
	int queued = -1, limit = -1;
	CHECK(sscanf(field("SigQ"), "%d/%d", &queued, &limit) == 2 && queued >= 4 && limit == 1234);
	/* stat's signal fields (31-34) are decimal: pending, blocked, ignored, caught. */
	char st[4096];
	CHECK(read_text("/proc/self/stat", st, sizeof st) > 0);
	char *after = strrchr(st, ')');
	CHECK(after != NULL);
	unsigned long long f[64];
	int nf = 0;
	for (char *tok = strtok(after + 2, " \n"); tok && nf < 64; tok = strtok(NULL, " \n"))
		f[nf++] = strtoull(tok, NULL, 10);
	CHECK(nf == 50); /* fields 3..52 */
#define F(n) f[(n) - 3]
	if (nf == 50) {
		CHECK(F(33) & (1ULL << (SIGHUP - 1)));
		CHECK(F(34) & (1ULL << (SIGTERM - 1)));
		CHECK((F(32) & usr1) != 0);
		CHECK(F(19) == 0 && F(20) == 1); /* nice, threads */
		char up[128];
		CHECK(read_text("/proc/uptime", up, sizeof up) > 0);
		double uptime = atof(up);
		long hz = sysconf(_SC_CLK_TCK);
		CHECK((double)F(22) / hz <= uptime + 1);
		/* A process started 50 ms later has a later start time (in clock ticks). */
		usleep(50000);
		pid_t kid = fork();
		if (kid == 0) {
			pause();
			_exit(0);
		}
		char kp[64], ks[4096];
		snprintf(kp, sizeof kp, "/proc/%d/stat", kid);
		CHECK(read_text(kp, ks, sizeof ks) > 0);
		char *k = strrchr(ks, ')');
		unsigned long long kstart = 0;
		for (int i = 3; k && i <= 22; i++)
			k = strchr(k + 1, ' '), kstart = k ? strtoull(k + 1, NULL, 10) : 0;
		CHECK(kstart >= F(22) + 4);
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		CHECK(F(25) == RLIM_INFINITY || F(25) > 0); /* rsslim */
		CHECK(F(38) == SIGCHLD); /* exit_signal */
		CHECK(F(39) < (unsigned long long)sysconf(_SC_NPROCESSORS_CONF)); /* processor */
	}
	sigset_t pend;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 1);
	for (int i = 0; i < 4; i++)
		CHECK(sigwait(&set, &sig) == 0);
	CHECK(sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR1));
	load();
	CHECK(hex("SigPnd") == 0 && hex("ShdPnd") == 0);

	/* Affinity as sched_getaffinity says. */
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	CHECK_OK(sched_setaffinity(0, sizeof cpus, &cpus));
	load();
	CHECK(strcmp(field("Cpus_allowed_list"), "0") == 0);

	/* Threads, and memory: VmSize follows mappings, VmRSS touched pages. */
	pthread_barrier_t b;
	pthread_barrier_init(&b, NULL, 3);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, sleeper, &b);
	pthread_create(&t2, NULL, sleeper, &b);
	pthread_barrier_wait(&b);
	load();
	CHECK(strcmp(field("Threads"), "3") == 0);
	pthread_barrier_wait(&b);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	load();
	long size0 = kib("VmSize"), rss0 = kib("VmRSS");
	CHECK(size0 > 0 && rss0 > 0 && kib("VmPeak") >= size0 && kib("VmHWM") >= rss0);
	size_t len = 64 << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	load();
	CHECK(kib("VmSize") >= size0 + 65536 && kib("VmRSS") < rss0 + 4096);
	memset(m, 1, 8 << 20);
	load();
	CHECK(kib("VmRSS") >= rss0 + 8192 - 256);
	CHECK(kib("RssAnon") >= 8192);
	munmap(m, len);
	load();
	CHECK(kib("VmSize") < size0 + 65536 && kib("VmPeak") >= size0 + 65536);
	CHECK(kib("VmHWM") >= rss0 + 8192 - 256);
	DONE();
}

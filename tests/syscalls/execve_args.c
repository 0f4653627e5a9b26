/* execve's arguments and the new image's start state: argv/envp passed exactly (empty
 * strings, many and long ones), E2BIG for one string over MAX_ARG_STRLEN, the auxiliary
 * vector (AT_PAGESZ, AT_UID & co, AT_RANDOM, AT_EXECFN, AT_SECURE 0), and EFAULT for a bad
 * argv element. */
#include "check.h"
#include <sys/auxv.h>
#include <sys/wait.h>

static int run(char *const argv[], char *const envp[])
{
	pid_t c = fork();
	if (c == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(errno + 100);
	}
	int st;
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
}

int main(int argc, char **argv, char **envp)
{
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		/* argv: "check", "", "two words", 2000 x "a" */
		int bad = 0;
		if (argc != 2004 || strcmp(argv[2], "") || strcmp(argv[3], "two words"))
			bad |= 1;
		for (int i = 4; i < argc; i++)
			if (strcmp(argv[i], "a"))
				bad |= 2;
		if (argv[argc] != NULL)
			bad |= 4;
		if (!envp[0] || strcmp(envp[0], "ONE=1") || strncmp(envp[1], "LONG=", 5) ||
		    strlen(envp[1]) != 5 + 100000 || envp[2])
			bad |= 8;
		if (getauxval(AT_PAGESZ) != 4096 || getauxval(AT_UID) != getuid() ||
		    getauxval(AT_EUID) != geteuid() || getauxval(AT_GID) != getgid() ||
		    getauxval(AT_SECURE) != 0)
			bad |= 16;
		unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
		const char *fn = (const char *)getauxval(AT_EXECFN);
		if (!rnd || !fn || strcmp(fn, "/proc/self/exe"))
			bad |= 32;
		if (!getauxval(AT_PHDR) || getauxval(AT_PHENT) != 56 || !getauxval(AT_ENTRY))
			bad |= 64;
		return bad;
	}
	if (argc > 1 && strcmp(argv[1], "count") == 0)
		return argc == 1 + 1 && envp[0] == NULL ? 0 : 1;
	(void)envp;

	static char *args[2010];
	args[0] = "execve_args";
	args[1] = "check";
	args[2] = "";
	args[3] = "two words";
	for (int i = 4; i < 2004; i++)
		args[i] = "a";
	args[2004] = NULL;
	static char longenv[5 + 100000 + 1];
	memcpy(longenv, "LONG=", 5);
	memset(longenv + 5, 'x', 100000);
	char *env[] = {"ONE=1", longenv, NULL};
	CHECK(run(args, env) == 0);

	/* Empty environment. */
	char *a2[] = {"execve_args", "count", NULL};
	char *e2[] = {NULL};
	CHECK(run(a2, e2) == 0);

	/* One string longer than MAX_ARG_STRLEN (32 pages): E2BIG. */
	static char huge[32 * 4096 + 10];
	memset(huge, 'y', sizeof huge - 1);
	char *a3[] = {"execve_args", huge, NULL};
	CHECK(run(a3, e2) == 100 + E2BIG);
	/* A bad pointer in argv: EFAULT. */
	char *a4[] = {"execve_args", (char *)1, NULL};
	CHECK(run(a4, e2) == 100 + EFAULT);
	CHECK_ERR(syscall(SYS_execve, "/proc/self/exe", 1, 0), EFAULT);
	DONE();
}

#include "check.h"

int main(int argc, char **argv)
{
	(void)argc;
	char *args[] = { argv[0], NULL };
	char *env[] = { NULL };
	CHECK_ERR(execve("/nonexistent", args, env), ENOENT);
	CHECK_ERR(execve("/etc/passwd", args, env), EACCES);
	CHECK_ERR(execve("/etc", args, env), EACCES);
	CHECK_ERR(execve("/etc/passwd/x", args, env), ENOTDIR);
	CHECK_ERR(execve(fixture("garbage.bin"), args, env), ENOEXEC);
	CHECK_ERR(execve(fixture("empty_shebang.sh"), args, env), ENOEXEC);
	CHECK_ERR(execve(fixture("loop_a"), args, env), ELOOP);
	CHECK_ERR(execve(NULL, args, env), EFAULT);
	CHECK_ERR(execve("/bin/true", (char **)1, env), EFAULT);
	if (failures)
		return 1;
	/* A #! script with an argument: its exit status becomes ours. */
	char *sargs[] = { "script", "hello", NULL };
	execve(fixture("exit_with_arg.sh"), sargs, env);
	fprintf(stderr, "execve of the script failed: %s\n", strerror(errno));
	return 1;
}

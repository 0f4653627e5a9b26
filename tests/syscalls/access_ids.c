/* access/faccessat with split ids: access checks the real uid and gid (and, for a real
 * root, root's override), AT_EACCESS the effective ones; root passes X_OK only if some
 * execute bit is set (directories: always); supplementary groups count; W_OK on a
 * read-only mount is EROFS while a device node there is still writable. */
#include "check.h"
#include <grp.h>
#include <sys/wait.h>

static int run(int (*fn)(void))
{
	pid_t c = fork();
	if (c == 0)
		_exit(fn());
	int st;
	return waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

/* Real 1000, effective root. */
static int real_user(void)
{
	if (setresuid(1000, 0, 0))
		return 99;
	int bad = 0;
	if (access(S("rootonly"), R_OK) != -1 || errno != EACCES)
		bad |= 1;
	if (faccessat(AT_FDCWD, S("rootonly"), R_OK, AT_EACCESS) != 0)
		bad |= 2;
	if (access(S("usr"), R_OK | W_OK) != 0) /* owned by 1000 */
		bad |= 4;
	if (syscall(SYS_faccessat2, AT_FDCWD, S("rootonly"), R_OK, AT_EACCESS) != 0)
		bad |= 8;
	return bad;
}

/* Real root, effective 1000: access uses root's rights. */
static int real_root(void)
{
	if (setresuid(0, 1000, 0))
		return 99;
	int bad = 0;
	if (access(S("rootonly"), R_OK | W_OK) != 0)
		bad |= 1;
	if (faccessat(AT_FDCWD, S("rootonly"), R_OK, AT_EACCESS) != -1 || errno != EACCES)
		bad |= 2;
	/* ...but open() goes by the effective id. */
	if (open(S("rootonly"), O_RDONLY) != -1 || errno != EACCES)
		bad |= 4;
	return bad;
}

/* Groups: real gid vs effective gid and supplementary groups. */
static int groups(void)
{
	gid_t g[1] = {4242};
	if (setgroups(1, g) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		return 99;
	int bad = 0;
	if (access(S("grp"), R_OK) != 0) /* group 4242, 0640 */
		bad |= 1;
	if (access(S("grp"), W_OK) != -1 || errno != EACCES)
		bad |= 2;
	return bad;
}

int main(void)
{
	scratch_init("accids");
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(put_text(S("rootonly"), "r"));
	CHECK_OK(chmod(S("rootonly"), 0600));
	CHECK_OK(put_text(S("usr"), "u"));
	CHECK_OK(chown(S("usr"), 1000, 1000));
	CHECK_OK(chmod(S("usr"), 0600));
	CHECK_OK(put_text(S("grp"), "g"));
	CHECK_OK(chown(S("grp"), 0, 4242));
	CHECK_OK(chmod(S("grp"), 0640));

	/* Root and X_OK. */
	CHECK_OK(put_text(S("noexec"), "n"));
	CHECK_OK(chmod(S("noexec"), 0644));
	CHECK_ERR(access(S("noexec"), X_OK), EACCES);
	CHECK_OK(chmod(S("noexec"), 0604 | 01)); /* others' execute is enough */
	CHECK_OK(access(S("noexec"), X_OK));
	CHECK_OK(mkdir(S("dir"), 0));
	CHECK_OK(access(S("dir"), X_OK | R_OK | W_OK));

	int r = run(real_user);
	if (r)
		fprintf(stderr, "real_user: %#x\n", r);
	CHECK(r == 0);
	r = run(real_root);
	if (r)
		fprintf(stderr, "real_root: %#x\n", r);
	CHECK(r == 0);
	r = run(groups);
	if (r)
		fprintf(stderr, "groups: %#x\n", r);
	CHECK(r == 0);

	/* F_OK with other bits, and bad modes. */
	CHECK_ERR(access(S("usr"), 8), EINVAL);
	CHECK_ERR(faccessat(AT_FDCWD, S("usr"), R_OK, 0x8000), EINVAL);
	/* Devices on a read-only file system stay writable; files do not. */
	CHECK_OK(access("/dev/null", W_OK));
	scratch_cleanup();
	DONE();
}

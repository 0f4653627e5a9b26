/* Who may rename what: moving a directory to another parent needs write permission on the
 * directory itself (its ".." changes), moving a file does not; write and search permission
 * on both parents are needed; a rename within a sticky directory needs ownership; renaming
 * across mounts is EXDEV, a mount point is EBUSY; renaming a name onto itself or onto
 * another link of the same file does nothing. */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

static int as_user(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			_exit(99);
		_exit(fn());
	}
	int st;
	return waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

static int user(void)
{
	int bad = 0;
	/* "a" and "b" are 1000's and writable; "a/rootdir" is root's, 0755. */
	if (rename(S("a/rootdir"), S("b/rootdir")) != -1 || errno != EACCES)
		bad |= 1;
	if (rename(S("a/rootfile"), S("b/rootfile")) != 0) /* a file: fine */
		bad |= 2;
	if (rename(S("a/rootdir"), S("a/rootdir2")) != 0) /* same parent: ".." unchanged */
		bad |= 4;
	/* No write permission on the target parent. */
	if (rename(S("b/rootfile"), S("ro/x")) != -1 || errno != EACCES)
		bad |= 8;
	/* Sticky: not ours. */
	if (rename(S("sticky/roots"), S("sticky/mine")) != -1 || errno != EPERM)
		bad |= 16;
	return bad;
}

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("renperm");
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(mkdir(S("a"), 0755));
	CHECK_OK(mkdir(S("b"), 0755));
	CHECK_OK(mkdir(S("ro"), 0755));
	CHECK_OK(mkdir(S("sticky"), 0777));
	CHECK_OK(chmod(S("sticky"), 01777));
	CHECK_OK(mkdir(S("a/rootdir"), 0755));
	CHECK_OK(put_text(S("a/rootfile"), "r"));
	CHECK_OK(put_text(S("sticky/roots"), "r"));
	CHECK_OK(chown(S("a"), 1000, 1000));
	CHECK_OK(chown(S("b"), 1000, 1000));
	int r = as_user(user);
	if (r)
		fprintf(stderr, "user: %#x\n", r);
	CHECK(r == 0);

	/* Across mounts; a mount point. */
	CHECK_OK(mkdir(S("m"), 0755));
	CHECK_OK(mount("none", S("m"), "tmpfs", 0, NULL));
	CHECK_OK(put_text(S("m/inner"), "i"));
	CHECK_ERR(rename(S("m/inner"), S("outer")), EXDEV);
	CHECK_ERR(link(S("m/inner"), S("outer")), EXDEV);
	CHECK_ERR(rename(S("m"), S("m2")), EBUSY);
	CHECK_OK(umount2(S("m"), 0));

	/* No-ops. */
	CHECK_OK(put_text(S("f"), "f"));
	CHECK_OK(link(S("f"), S("g")));
	CHECK_OK(rename(S("f"), S("f")));
	CHECK_OK(rename(S("f"), S("g")));
	struct stat st;
	CHECK(stat(S("f"), &st) == 0 && stat(S("g"), &st) == 0 && st.st_nlink == 2);
	scratch_cleanup();
	DONE();
}

/* Sticky directories (mode 01777, like /tmp): anyone may create there, but only the owner of
 * a file, the owner of the directory or root may remove or rename it; without the sticky bit
 * a writable directory lets anyone. mkdir and chmod keep the bit. */
#include "check.h"
#include <sys/wait.h>

/* Run fn as uid in a child; its exit status (0: all checks held). */
static int as_user(uid_t uid, int (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
			_exit(99);
		_exit(fn());
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 98;
	return WEXITSTATUS(status);
}

static int user_1000(void)
{
	int bad = 0;
	/* Own files: create, rename, remove. */
	if (put_text(S("sticky/mine"), "m") != 0)
		bad |= 1;
	if (rename(S("sticky/mine"), S("sticky/mine2")) != 0)
		bad |= 2;
	/* Root's file and directory: neither removed nor renamed, nor replaced by a rename. */
	if (unlink(S("sticky/roots")) != -1 || errno != EPERM)
		bad |= 4;
	if (rename(S("sticky/roots"), S("sticky/taken")) != -1 || errno != EPERM)
		bad |= 8;
	if (rename(S("sticky/mine2"), S("sticky/roots")) != -1 || errno != EPERM)
		bad |= 16;
	if (rmdir(S("sticky/rootdir")) != -1 || errno != EPERM)
		bad |= 32;
	/* Without the sticky bit, a writable directory is enough. */
	if (unlink(S("open/roots")) != 0)
		bad |= 64;
	if (unlink(S("sticky/mine2")) != 0)
		bad |= 128;
	/* Leave a file for the directory's owner to remove. */
	if (put_text(S("owned/by1000"), "x") != 0)
		bad |= 1;
	return bad;
}

static int user_1001(void)
{
	/* 1001 owns the directory "owned": it may remove 1000's file there. */
	if (unlink(S("owned/by1000")) != 0)
		return 1;
	return 0;
}

int main(void)
{
	scratch_init("sticky");
	umask(0);
	CHECK_OK(chmod(scratch_base(), 0755));
	CHECK_OK(mkdir(S("sticky"), 01777));
	struct stat st;
	CHECK_OK(stat(S("sticky"), &st));
	CHECK((st.st_mode & 07777) == 01777);
	CHECK_OK(mkdir(S("open"), 0777));
	CHECK_OK(mkdir(S("owned"), 01777));
	CHECK_OK(chown(S("owned"), 1001, 1001));
	CHECK_OK(stat(S("owned"), &st));
	CHECK((st.st_mode & 07777) == 01777);
	CHECK_OK(put_text(S("sticky/roots"), "r"));
	CHECK_OK(mkdir(S("sticky/rootdir"), 0777));
	CHECK_OK(put_text(S("open/roots"), "r"));

	int r = as_user(1000, user_1000);
	if (r)
		fprintf(stderr, "uid 1000 checks failed: mask %d\n", r);
	CHECK(r == 0);
	CHECK_OK(access(S("sticky/roots"), F_OK));
	CHECK_ERR(access(S("open/roots"), F_OK), ENOENT);
	r = as_user(1001, user_1001);
	CHECK(r == 0);
	CHECK_ERR(access(S("owned/by1000"), F_OK), ENOENT);

	/* chmod keeps and clears the bit; root removes anything. */
	CHECK_OK(chmod(S("sticky"), 0777));
	CHECK_OK(stat(S("sticky"), &st));
	CHECK((st.st_mode & 07777) == 0777);
	CHECK_OK(chmod(S("sticky"), 01755));
	CHECK_OK(stat(S("sticky"), &st));
	CHECK((st.st_mode & 07777) == 01755);
	CHECK_OK(unlink(S("sticky/roots")));

	scratch_cleanup();
	DONE();
}

#include "check.h"

int main(void)
{
	struct stat a, b;
	/* Following and not following. */
	CHECK_OK(stat(fixture("link_to_passwd"), &a));
	CHECK_OK(stat("/etc/passwd", &b));
	CHECK(a.st_ino == b.st_ino && S_ISREG(a.st_mode));
	CHECK_OK(lstat(fixture("link_to_passwd"), &a));
	CHECK(S_ISLNK(a.st_mode));
	/* Loops and long chains. */
	CHECK_ERR(stat(fixture("loop_a"), &a), ELOOP);
	CHECK_ERR(open(fixture("loop_a"), O_RDONLY), ELOOP);
	CHECK_OK(lstat(fixture("loop_a"), &a));
	CHECK_OK(stat(fixture("chain_40"), &a));
	CHECK_ERR(stat(fixture("chain_41"), &a), ELOOP);
	/* Dangling. */
	CHECK_ERR(stat(fixture("dangling"), &a), ENOENT);
	CHECK_OK(lstat(fixture("dangling"), &a));
	/* O_NOFOLLOW on a symlink. */
	CHECK_ERR(open(fixture("link_to_passwd"), O_RDONLY | O_NOFOLLOW), ELOOP);
	/* Symlink to a directory as a middle component, and with a trailing slash. */
	CHECK_OK(stat(fixture("link_to_etc/passwd"), &a));
	CHECK_OK(stat(fixture("link_to_etc/"), &a));
	CHECK(S_ISDIR(a.st_mode));
	CHECK_OK(lstat(fixture("link_to_etc/"), &a));
	CHECK(S_ISDIR(a.st_mode));
	/* /bin is a link on merged-/usr systems; either way /bin/sh resolves. */
	CHECK_OK(stat("/bin/sh", &a));
	DONE();
}

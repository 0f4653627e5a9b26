/* renameat2 flags on a tmpfs: RENAME_WHITEOUT leaves a whiteout (character device 0/0) at the
 * old name, RENAME_EXCHANGE swaps a file and a directory (their ".." follows), and the
 * invalid combinations and missing names. */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4
#endif

static long rn2(const char *a, const char *b, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("whiteout");
	const char *m = S("m");
	CHECK_OK(mkdir(m, 0755));
	CHECK_OK(mount("none", m, "tmpfs", 0, "size=1m"));
	char a[256], b[256], d[256], dd[256];
	snprintf(a, sizeof a, "%s/a", m);
	snprintf(b, sizeof b, "%s/b", m);
	snprintf(d, sizeof d, "%s/d", m);
	snprintf(dd, sizeof dd, "%s/d/sub", m);
	CHECK_OK(put_text(a, "A"));

	/* WHITEOUT: the file moves, a 0/0 character device takes its old name. */
	CHECK_OK(rn2(a, b, RENAME_WHITEOUT));
	struct stat st;
	CHECK_OK(lstat(a, &st));
	CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	CHECK_OK(lstat(b, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 1);
	CHECK_ERR(open(a, O_RDONLY), ENXIO);

	/* EXCHANGE of a file and a directory: ".." of the directory is its new parent. */
	CHECK_OK(mkdir(d, 0755));
	CHECK_OK(mkdir(dd, 0755));
	char f_in_d[256];
	snprintf(f_in_d, sizeof f_in_d, "%s/d/file", m);
	CHECK_OK(put_text(f_in_d, "F"));
	CHECK_OK(rn2(f_in_d, dd, RENAME_EXCHANGE));
	CHECK_OK(lstat(f_in_d, &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(lstat(dd, &st));
	CHECK(S_ISREG(st.st_mode));
	/* Moving a directory between directories via exchange updates link counts. */
	struct stat before, after;
	CHECK_OK(stat(d, &before));
	CHECK_OK(rn2(f_in_d, b, RENAME_EXCHANGE)); /* d/file (dir) <-> b (file) */
	CHECK_OK(stat(d, &after));
	CHECK(after.st_nlink == before.st_nlink - 1);
	CHECK_OK(lstat(b, &st));
	CHECK(S_ISDIR(st.st_mode));

	/* Errors. */
	CHECK_ERR(rn2(b, d, RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	CHECK_ERR(rn2(b, d, RENAME_WHITEOUT | RENAME_EXCHANGE), EINVAL);
	CHECK_ERR(rn2(b, d, 8), EINVAL);
	char missing[256];
	snprintf(missing, sizeof missing, "%s/missing", m);
	CHECK_ERR(rn2(b, missing, RENAME_EXCHANGE), ENOENT);
	CHECK_ERR(rn2(b, d, RENAME_NOREPLACE), EEXIST);

	CHECK_OK(umount(m));
	scratch_cleanup();
	DONE();
}

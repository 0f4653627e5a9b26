/* tmpfs mount options: nr_inodes (statfs f_files/f_ffree, ENOSPC when used up, freed by
 * unlink; hard links count too), uid= and gid= (the root directory's owner), size= with k/m/g suffixes and as a
 * percentage, a remount changing size and nr_inodes (not below what is in use: EINVAL),
 * and unknown or malformed options (EINVAL). */
#include "check.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	scratch_init("tmpfsopt");
	const char *dir = strdup(S("m"));
	CHECK_OK(mkdir(dir, 0755));

	CHECK_OK(mount("t", dir, "tmpfs", 0, "nr_inodes=4,uid=1234,gid=5678,mode=0750,size=1m"));
	struct stat st;
	CHECK_OK(stat(dir, &st));
	CHECK(st.st_uid == 1234 && st.st_gid == 5678 && (st.st_mode & 07777) == 0750);
	struct statfs sf;
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_files == 4);
	CHECK(sf.f_ffree == 3); /* the root directory is one */
	CHECK(sf.f_blocks * sf.f_bsize == 1024 * 1024);

	/* Inodes run out: files, directories, symlinks all take one. */
	char p[128];
	snprintf(p, sizeof p, "%s/a", dir);
	CHECK_OK(put_text(p, "a"));
	snprintf(p, sizeof p, "%s/d", dir);
	CHECK_OK(mkdir(p, 0755));
	snprintf(p, sizeof p, "%s/l", dir);
	CHECK_OK(symlink("a", p));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_ffree == 0);
	snprintf(p, sizeof p, "%s/b", dir);
	CHECK_ERR(open(p, O_CREAT | O_WRONLY, 0644), ENOSPC);
	CHECK_ERR(mkdir(p, 0755), ENOSPC);
	/* tmpfs counts hard links against nr_inodes too. */
	char a[128];
	snprintf(a, sizeof a, "%s/a", dir);
	CHECK_ERR(link(a, p), ENOSPC);
	/* Removing one frees one. */
	snprintf(p, sizeof p, "%s/l", dir);
	CHECK_OK(unlink(p));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_ffree == 1);
	CHECK_OK(link(a, p)); /* now it fits */
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_ffree == 0);
	CHECK_OK(unlink(p)); /* and unlinking it gives it back */
	snprintf(p, sizeof p, "%s/c", dir);
	CHECK_OK(put_text(p, "c"));

	/* Remount: more inodes and a new size; fewer than in use is EINVAL. */
	CHECK_OK(mount(NULL, dir, NULL, MS_REMOUNT, "nr_inodes=10,size=2m"));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_files == 10 && sf.f_ffree == 6);
	CHECK(sf.f_blocks * sf.f_bsize == 2 * 1024 * 1024);
	CHECK_ERR(mount(NULL, dir, NULL, MS_REMOUNT, "nr_inodes=2"), EINVAL);
	CHECK_OK(umount(dir));

	/* Sizes with suffixes and percentages; bad options. */
	CHECK_OK(mount("t", dir, "tmpfs", 0, "size=3k"));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_blocks * sf.f_bsize == 4096); /* rounded up to a page */
	CHECK_OK(umount(dir));
	CHECK_OK(mount("t", dir, "tmpfs", 0, "size=1g"));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_blocks * sf.f_bsize == 1024L * 1024 * 1024);
	CHECK_OK(umount(dir));
	CHECK_OK(mount("t", dir, "tmpfs", 0, "size=1%"));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_blocks > 0);
	CHECK_OK(umount(dir));
	CHECK_ERR(mount("t", dir, "tmpfs", 0, "size=12q"), EINVAL);
	CHECK_ERR(mount("t", dir, "tmpfs", 0, "nr_inodes=x"), EINVAL);
	CHECK_ERR(mount("t", dir, "tmpfs", 0, "bogus=1"), EINVAL);
	CHECK_ERR(mount("t", dir, "tmpfs", 0, "mode=9"), EINVAL);
	CHECK_ERR(mount("t", dir, "tmpfs", 0, "uid=abc"), EINVAL);
	/* nr_inodes with suffixes. */
	CHECK_OK(mount("t", dir, "tmpfs", 0, "nr_inodes=2k"));
	CHECK_OK(statfs(dir, &sf));
	CHECK(sf.f_files == 2048);
	CHECK_OK(umount(dir));
	scratch_cleanup();
	DONE();
}

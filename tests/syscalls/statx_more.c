/* statx beyond stat: the birth time on tmpfs (set at creation, never moved by writes or
 * attribute changes, none on /proc), the mount id matching /proc/self/mountinfo, the
 * device numbers of a device node, a NULL path with AT_EMPTY_PATH, and a mask of 0 still
 * answering the basic fields (Linux may leave out the times no one asked for). */
#include "check.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

static int before(struct statx_timestamp a, struct statx_timestamp b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* The mount point of mount `id` in mountinfo, or "". */
static void mount_point(unsigned long long id, char *out, size_t n)
{
	static char buf[65536];
	out[0] = 0;
	if (read_text("/proc/self/mountinfo", buf, sizeof buf) <= 0)
		return;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned long long mid;
		char root[256], mp[256];
		if (sscanf(l, "%llu %*u %*s %255s %255s", &mid, root, mp) == 3 && mid == id) {
			snprintf(out, n, "%s", mp);
			return;
		}
	}
}

int main(void)
{
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/palisade-statx-%d", getpid());
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
	CHECK(fd >= 0);
	struct statx a, b;
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &a));
	CHECK(a.stx_mask & STATX_BTIME);
	CHECK(before(a.stx_btime, a.stx_mtime) && before(a.stx_btime, a.stx_ctime));
	usleep(20000);
	CHECK(write(fd, "data", 4) == 4);
	CHECK_OK(fchmod(fd, 0600));
	CHECK_OK(statx(AT_FDCWD, path, 0, STATX_BTIME | STATX_MTIME, &b));
	CHECK(b.stx_btime.tv_sec == a.stx_btime.tv_sec && b.stx_btime.tv_nsec == a.stx_btime.tv_nsec);
	CHECK(!before(b.stx_mtime, a.stx_btime) || (b.stx_mtime.tv_sec == a.stx_btime.tv_sec &&
						  b.stx_mtime.tv_nsec == a.stx_btime.tv_nsec));
	CHECK(b.stx_mtime.tv_sec > a.stx_mtime.tv_sec ||
	      (b.stx_mtime.tv_sec == a.stx_mtime.tv_sec && b.stx_mtime.tv_nsec > a.stx_mtime.tv_nsec));

	/* A mask of 0 still fills the basic fields. */
	memset(&b, 0xff, sizeof b);
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, 0, &b));
	unsigned want = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_UID | STATX_NLINK;
	CHECK((b.stx_mask & want) == want);
	CHECK(b.stx_size == 4 && (b.stx_mode & 07777) == 0600);

	/* NULL path with AT_EMPTY_PATH is the descriptor (Linux 6.11). */
	CHECK_OK(syscall(SYS_statx, fd, NULL, AT_EMPTY_PATH, STATX_INO, &b));
	CHECK(b.stx_ino == a.stx_ino);
	CHECK_ERR(syscall(SYS_statx, fd, NULL, 0, STATX_INO, &b), EFAULT);

	/* The mount id is mountinfo's first field for the mount holding the file. */
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b));
	CHECK(b.stx_mask & STATX_MNT_ID);
	char mp[256];
	mount_point(b.stx_mnt_id, mp, sizeof mp);
	CHECK(strcmp(mp, "/dev/shm") == 0);
	struct statx p;
	CHECK_OK(statx(AT_FDCWD, "/proc/self/status", 0, STATX_MNT_ID | STATX_BTIME, &p));
	CHECK(p.stx_mnt_id != b.stx_mnt_id);
	mount_point(p.stx_mnt_id, mp, sizeof mp);
	CHECK(strcmp(mp, "/proc") == 0);
	/* procfs keeps no birth time. */
	CHECK(!(p.stx_mask & STATX_BTIME));
	CHECK_OK(statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &p));
	mount_point(p.stx_mnt_id, mp, sizeof mp);
	CHECK(strcmp(mp, "/") == 0);

	/* A device node: its own numbers in stx_rdev_*, the file system's in stx_dev_*. */
	CHECK_OK(statx(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &p));
	CHECK(S_ISCHR(p.stx_mode) && p.stx_rdev_major == 1 && p.stx_rdev_minor == 3);
	CHECK(p.stx_blocks == 0 && p.stx_size == 0);
	struct stat st;
	CHECK_OK(stat("/dev/null", &st));
	CHECK(makedev(p.stx_dev_major, p.stx_dev_minor) == st.st_dev);
	CHECK(makedev(p.stx_rdev_major, p.stx_rdev_minor) == st.st_rdev);

	close(fd);
	CHECK_OK(unlink(path));
	DONE();
}

/* statfs/fstatfs per file system: the magic numbers of proc, sysfs, devpts, tmpfs and of
 * pipes, sockets and anonymous inodes; a tmpfs's size limit in f_blocks and its free blocks
 * going down as it fills up, ENOSPC at the limit; mount flags in f_flags. */
#include "check.h"
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

static long magic_of(const char *path)
{
	struct statfs s;
	if (statfs(path, &s) != 0)
		return -1;
	return s.f_type;
}

static long fmagic(int fd)
{
	struct statfs s;
	if (fstatfs(fd, &s) != 0)
		return -1;
	return s.f_type;
}

int main(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	CHECK(magic_of("/proc") == 0x9fa0);
	CHECK(magic_of("/proc/self/status") == 0x9fa0);
	CHECK(magic_of("/sys") == 0x62656572);
	CHECK(magic_of("/dev/pts") == 0x1cd1);
	CHECK(magic_of("/dev/shm") == 0x01021994);

	int p[2];
	CHECK_OK(pipe(p));
	CHECK(fmagic(p[0]) == 0x50495045);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(fmagic(sv[0]) == 0x534F434B);
	int e = eventfd(0, 0);
	CHECK(fmagic(e) == 0x09041934);

	/* A 1 MiB tmpfs with flags. */
	scratch_init("statfs");
	const char *m = S("m");
	CHECK_OK(mkdir(m, 0755));
	CHECK_OK(mount("none", m, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m"));
	struct statfs s;
	CHECK_OK(statfs(m, &s));
	CHECK(s.f_type == 0x01021994 && s.f_bsize == 4096 && s.f_namelen == 255);
	CHECK(s.f_blocks == 256 && s.f_bfree == 256 && s.f_bavail == 256);
	CHECK((s.f_flags & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_NOSUID | ST_NODEV | ST_NOEXEC));
	CHECK(!(s.f_flags & ST_RDONLY));
	struct statvfs v;
	CHECK_OK(statvfs(m, &v));
	CHECK(v.f_blocks == 256 && (v.f_flag & ST_NOEXEC));

	/* Filling it: free blocks go down; past the limit, ENOSPC. */
	char f[256];
	snprintf(f, sizeof f, "%s/fill", m);
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	static char chunk[65536];
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 8; i++)
		CHECK(write(fd, chunk, sizeof chunk) == sizeof chunk);
	CHECK_OK(fstatfs(fd, &s));
	CHECK(s.f_bfree <= 256 - 128 && s.f_bfree >= 256 - 130);
	ssize_t r;
	long total = 8 * 65536;
	while ((r = write(fd, chunk, sizeof chunk)) > 0)
		total += r;
	CHECK(r == -1 && errno == ENOSPC);
	CHECK(total == 1 << 20);
	CHECK_OK(fstatfs(fd, &s));
	CHECK(s.f_bfree == 0);
	close(fd);
	CHECK_OK(unlink(f));
	CHECK_OK(statfs(m, &s));
	CHECK(s.f_bfree == 256);

	/* Read-only remount shows in f_flags. */
	CHECK_OK(mount(NULL, m, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	CHECK_OK(statfs(m, &s));
	CHECK(s.f_flags & ST_RDONLY);
	CHECK_OK(umount(m));
	scratch_cleanup();
	DONE();
}

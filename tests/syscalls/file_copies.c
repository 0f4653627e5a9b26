/* sendfile, copy_file_range, fallocate, O_TMPFILE, memfd_create: data and offsets, errors. */
#include "check.h"
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <linux/falloc.h>

int main(void)
{
	char dir[64], a[96], b[96];
	snprintf(dir, sizeof dir, "/tmp/palisade-copies-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	int fa = open(a, O_CREAT | O_RDWR, 0644);
	int fb = open(b, O_CREAT | O_RDWR, 0644);
	CHECK(fa >= 0 && fb >= 0);
	char data[10000];
	for (int i = 0; i < (int)sizeof data; i++)
		data[i] = 'a' + i % 26;
	CHECK(write(fa, data, sizeof data) == sizeof data);

	/* sendfile with an offset pointer leaves the input offset alone. */
	off_t off = 100;
	CHECK(sendfile(fb, fa, &off, 500) == 500 && off == 600);
	CHECK(lseek(fa, 0, SEEK_CUR) == sizeof data);
	char buf[10000];
	CHECK(pread(fb, buf, 500, 0) == 500 && memcmp(buf, data + 100, 500) == 0);
	/* Without one it moves the input offset; it stops at the end of the input. */
	CHECK(lseek(fa, 9800, SEEK_SET) == 9800);
	CHECK(sendfile(fb, fa, NULL, 1000) == 200);
	CHECK(lseek(fa, 0, SEEK_CUR) == sizeof data);
	CHECK(lseek(fb, 0, SEEK_CUR) == 700);
	/* Into a pipe; from a pipe is EINVAL. */
	int p[2];
	CHECK_OK(pipe(p));
	off = 0;
	CHECK(sendfile(p[1], fa, &off, 26) == 26);
	CHECK(read(p[0], buf, 26) == 26 && memcmp(buf, data, 26) == 0);
	CHECK_ERR(sendfile(fb, p[0], NULL, 10), EINVAL);
	int ro = open(a, O_RDONLY);
	CHECK_ERR(sendfile(ro, fa, NULL, 10), EBADF);

	/* copy_file_range: by pointers, then by the files' offsets. */
	CHECK_OK(ftruncate(fb, 0));
	loff_t in = 26, out = 0;
	CHECK(copy_file_range(fa, &in, fb, &out, 52, 0) == 52 && in == 78 && out == 52);
	CHECK(pread(fb, buf, 52, 0) == 52 && memcmp(buf, data + 26, 52) == 0);
	CHECK(lseek(fa, 0, SEEK_SET) == 0 && lseek(fb, 52, SEEK_SET) == 52);
	CHECK(copy_file_range(fa, NULL, fb, NULL, 10, 0) == 10);
	CHECK(lseek(fa, 0, SEEK_CUR) == 10 && lseek(fb, 0, SEEK_CUR) == 62);
	CHECK_ERR(copy_file_range(fa, NULL, fb, NULL, 10, 1), EINVAL);
	in = 0, out = 5;
	CHECK_ERR(copy_file_range(fa, &in, fa, &out, 100, 0), EINVAL); /* overlapping */
	CHECK_ERR(copy_file_range(fa, NULL, p[1], NULL, 10, 0), EINVAL);

	/* fallocate: grows the size (zeros), KEEP_SIZE does not, a hole reads zeros. */
	int fc = open(dir, O_TMPFILE | O_RDWR, 0600);
	CHECK(fc >= 0);
	struct stat st;
	CHECK_OK(fstat(fc, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_nlink == 0);
	CHECK_OK(fallocate(fc, 0, 0, 8192));
	CHECK_OK(fstat(fc, &st));
	CHECK(st.st_size == 8192);
	CHECK_OK(fallocate(fc, FALLOC_FL_KEEP_SIZE, 8192, 4096));
	CHECK_OK(fstat(fc, &st));
	CHECK(st.st_size == 8192);
	CHECK(pwrite(fc, data, 8192, 0) == 8192);
	CHECK_OK(fallocate(fc, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000));
	CHECK(pread(fc, buf, 8192, 0) == 8192);
	CHECK(memcmp(buf, data, 100) == 0 && buf[100] == 0 && buf[5099] == 0 && buf[5100] == data[5100]);
	CHECK_ERR(fallocate(fc, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
	CHECK_ERR(fallocate(fc, 0, -1, 10), EINVAL);
	CHECK_ERR(fallocate(fc, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(ro, 0, 0, 10), EBADF);
	CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
	/* O_TMPFILE gets a name with linkat. */
	char named[128], link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fc);
	snprintf(named, sizeof named, "%s/named", dir);
	CHECK_OK(linkat(AT_FDCWD, link, AT_FDCWD, named, AT_SYMLINK_FOLLOW) == 0 ||
		 linkat(fc, "", AT_FDCWD, named, AT_EMPTY_PATH));
	CHECK_OK(stat(named, &st));
	CHECK(st.st_size == 8192 && st.st_nlink == 1);
	CHECK_ERR(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_ERR(open(a, O_TMPFILE | O_RDWR, 0600), ENOTDIR);

	/* memfd_create: a file in memory, shown as /memfd:NAME (deleted). */
	int m = memfd_create("palisade-test", MFD_CLOEXEC);
	CHECK(m >= 0);
	CHECK(fcntl(m, F_GETFD) == FD_CLOEXEC);
	CHECK_OK(ftruncate(m, 4096));
	char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	CHECK(map != MAP_FAILED);
	strcpy(map, "shared");
	CHECK(pread(m, buf, 6, 0) == 6 && memcmp(buf, "shared", 6) == 0);
	snprintf(link, sizeof link, "/proc/self/fd/%d", m);
	char target[256] = { 0 };
	CHECK(readlink(link, target, sizeof target - 1) > 0);
	CHECK(strcmp(target, "/memfd:palisade-test (deleted)") == 0);
	CHECK_ERR(memfd_create("x", 0x1000), EINVAL);
	char longname[300];
	memset(longname, 'n', sizeof longname);
	longname[299] = 0;
	CHECK_ERR(memfd_create(longname, 0), EINVAL);

	unlink(named);
	unlink(a);
	unlink(b);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

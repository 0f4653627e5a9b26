/* truncate/ftruncate: growing reads back zeros, shrinking then growing forgets the old bytes,
 * the offset is left alone, mtime/ctime change, and the errors: negative lengths, directories,
 * descriptors not open for writing, pipes and sockets, a path through a file. */
#include "check.h"
#include <sys/socket.h>

int main(void)
{
	scratch_init("trunc");
	const char *f = S("f");
	CHECK_OK(put_text(f, "abcdefgh"));
	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	CHECK(lseek(fd, 6, SEEK_SET) == 6);

	/* Shrink then grow: the cut bytes come back as zeros. */
	CHECK_OK(ftruncate(fd, 3));
	CHECK(lseek(fd, 0, SEEK_CUR) == 6); /* the offset stays */
	CHECK_OK(ftruncate(fd, 8192));
	char b[16];
	CHECK(pread(fd, b, 8, 0) == 8 && memcmp(b, "abc\0\0\0\0\0", 8) == 0);
	CHECK(pread(fd, b, 16, 8190) == 2 && b[0] == 0 && b[1] == 0);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 8192);
	/* A write past the end after a shrink leaves a hole of zeros. */
	CHECK_OK(ftruncate(fd, 2));
	CHECK(pwrite(fd, "Z", 1, 5) == 1);
	CHECK(pread(fd, b, 16, 0) == 6 && memcmp(b, "ab\0\0\0Z", 6) == 0);

	/* Times change even when the size does not (ftruncate to the same size). */
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	CHECK_OK(futimens(fd, old));
	CHECK_OK(ftruncate(fd, 6));
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec > 1000 && st.st_ctim.tv_sec > 1000);

	/* truncate(2) by path, following symlinks. */
	CHECK_OK(symlink("f", S("l")));
	CHECK_OK(truncate(S("l"), 1));
	CHECK_OK(stat(f, &st));
	CHECK(st.st_size == 1);

	/* Errors. */
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	CHECK_ERR(truncate(f, -1), EINVAL);
	CHECK_ERR(truncate(scratch_base(), 0), EISDIR);
	CHECK_ERR(truncate(S("missing"), 0), ENOENT);
	CHECK_ERR(truncate(S("f/x"), 0), ENOTDIR);
	int ro = open(f, O_RDONLY);
	CHECK_ERR(ftruncate(ro, 0), EINVAL);
	int dir = open(scratch_base(), O_RDONLY | O_DIRECTORY);
	CHECK_ERR(ftruncate(dir, 0), EINVAL);
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(ftruncate(p[1], 0), EINVAL);
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(ftruncate(sv[0], 0), EINVAL);
	CHECK_ERR(ftruncate(9999, 0), EBADF);
	int path = open(f, O_PATH);
	CHECK_ERR(ftruncate(path, 0), EBADF);
	/* O_APPEND descriptors may truncate. */
	int ap = open(f, O_WRONLY | O_APPEND);
	CHECK_OK(ftruncate(ap, 0));

	scratch_cleanup();
	DONE();
}

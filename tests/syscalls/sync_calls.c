/* fsync, fdatasync, syncfs, sync_file_range and sync: which files they accept (regular files
 * and directories, also opened read-only; not pipes, sockets or eventfds), their errors, and
 * that data written before them reads back. */
#include "check.h"
#include <sys/eventfd.h>
#include <sys/socket.h>

int main(void)
{
	scratch_init("sync");
	int f = open(S("f"), O_CREAT | O_RDWR, 0644);
	CHECK(f >= 0);
	CHECK(write(f, "data", 4) == 4);
	CHECK_OK(fsync(f));
	CHECK_OK(fdatasync(f));
	CHECK_OK(syncfs(f));
	CHECK_OK(sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WRITE));
	CHECK_OK(sync_file_range(f, 0, 4, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						  SYNC_FILE_RANGE_WAIT_AFTER));
	CHECK_ERR(sync_file_range(f, 0, 4, 0x8), EINVAL);
	CHECK_ERR(sync_file_range(f, -1, 4, SYNC_FILE_RANGE_WRITE), EINVAL);
	CHECK_ERR(sync_file_range(f, 0, -1, SYNC_FILE_RANGE_WRITE), EINVAL);
	sync();

	int ro = open(S("f"), O_RDONLY);
	CHECK_OK(fsync(ro));
	CHECK_OK(fdatasync(ro));
	char b[8];
	CHECK(read(ro, b, 4) == 4 && memcmp(b, "data", 4) == 0);

	int dir = open(scratch_base(), O_RDONLY | O_DIRECTORY);
	CHECK_OK(fsync(dir));
	CHECK_OK(fdatasync(dir));
	CHECK_OK(syncfs(dir));

	/* O_PATH descriptors are not open for I/O. */
	int path = open(S("f"), O_PATH);
	CHECK_ERR(fsync(path), EBADF);
	CHECK_ERR(fdatasync(path), EBADF);
	CHECK_ERR(syncfs(path), EBADF);

	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fsync(p[0]), EINVAL);
	CHECK_ERR(fdatasync(p[1]), EINVAL);
	CHECK_OK(syncfs(p[0]));
	CHECK_ERR(sync_file_range(p[1], 0, 0, SYNC_FILE_RANGE_WRITE), ESPIPE);

	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(fsync(sv[0]), EINVAL);
	int e = eventfd(0, 0);
	CHECK_ERR(fsync(e), EINVAL);
	CHECK_ERR(fdatasync(e), EINVAL);

	/* Devices: /dev/null has nothing to sync. */
	int n = open("/dev/null", O_WRONLY);
	CHECK_ERR(fsync(n), EINVAL);

	CHECK_ERR(fsync(-1), EBADF);
	CHECK_ERR(fsync(999), EBADF);
	CHECK_ERR(syncfs(-1), EBADF);
	CHECK_ERR(sync_file_range(-1, 0, 0, 0), EBADF);
	scratch_cleanup();
	DONE();
}

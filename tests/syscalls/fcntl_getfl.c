/* fcntl status flags: F_GETFL reports the access mode, O_LARGEFILE (forced on 64-bit), O_APPEND,
 * O_NONBLOCK, O_DIRECT..., F_SETFL changes only O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and
 * O_NONBLOCK (access mode and creation flags are ignored), flags are per open file
 * description (shared by dup, not by a second open), O_PATH descriptors report O_PATH. */
#include "check.h"

#define KERNEL_O_LARGEFILE 0100000

int main(void)
{
	scratch_init("getfl");
	const char *f = S("f");
	CHECK_OK(put_text(f, "0123456789"));

	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	int fl = fcntl(fd, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_RDWR);
	CHECK(fl & KERNEL_O_LARGEFILE);
	CHECK(!(fl & (O_APPEND | O_NONBLOCK | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC)));

	/* Access mode and creation flags are ignored by F_SETFL. */
	CHECK_OK(fcntl(fd, F_SETFL, O_RDONLY | O_APPEND | O_TRUNC | O_CREAT));
	fl = fcntl(fd, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_RDWR && (fl & O_APPEND) && !(fl & (O_TRUNC | O_CREAT)));
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 10);
	/* O_APPEND set later makes writes append. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(write(fd, "ab", 2) == 2);
	CHECK(lseek(fd, 0, SEEK_CUR) == 12);

	/* Shared through dup, not through another open. */
	int d = dup(fd);
	int other = open(f, O_RDWR);
	CHECK_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
	CHECK((fcntl(d, F_GETFL) & (O_NONBLOCK | O_APPEND)) == O_NONBLOCK);
	CHECK(!(fcntl(other, F_GETFL) & O_NONBLOCK));
	/* FD_CLOEXEC is per descriptor. */
	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC && fcntl(d, F_GETFD) == 0);

	/* O_NOATIME as the owner is allowed, shows in F_GETFL. */
	CHECK_OK(fcntl(other, F_SETFL, O_NOATIME));
	CHECK(fcntl(other, F_GETFL) & O_NOATIME);
	/* Opened with O_APPEND | O_NONBLOCK | O_SYNC: all reported. */
	int w = open(f, O_WRONLY | O_APPEND | O_NONBLOCK | O_DSYNC);
	fl = fcntl(w, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_WRONLY && (fl & O_APPEND) && (fl & O_NONBLOCK) && (fl & O_DSYNC));
	/* O_PATH. */
	int p = open(f, O_PATH);
	CHECK(p >= 0);
	fl = fcntl(p, F_GETFL);
	CHECK((fl & O_PATH) && (fl & O_ACCMODE) == O_RDONLY);
	CHECK_ERR(fcntl(p, F_SETFL, O_NONBLOCK), EBADF);
	/* A pipe: O_NONBLOCK toggles, mode is per end. */
	int pp[2];
	CHECK_OK(pipe(pp));
	CHECK((fcntl(pp[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK((fcntl(pp[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
	CHECK(!(fcntl(pp[0], F_GETFL) & KERNEL_O_LARGEFILE));
	/* Unknown commands. */
	CHECK_ERR(fcntl(fd, 9999), EINVAL);
	CHECK_ERR(fcntl(9999, F_GETFL), EBADF);

	scratch_cleanup();
	DONE();
}

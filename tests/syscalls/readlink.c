#include "check.h"

int main(void)
{
	char buf[256];
	ssize_t n = readlink(fixture("link_to_passwd"), buf, sizeof buf);
	CHECK(n == 11 && memcmp(buf, "/etc/passwd", 11) == 0);
	/* Truncated, no NUL added. */
	memset(buf, 'x', sizeof buf);
	CHECK(readlink(fixture("link_to_passwd"), buf, 4) == 4 && memcmp(buf, "/etcx", 5) == 0);
	CHECK_ERR(readlink("/etc/passwd", buf, sizeof buf), EINVAL);
	CHECK_ERR(readlink(fixture("link_to_passwd"), buf, 0), EINVAL);
	CHECK_ERR(readlink("/nonexistent/x", buf, sizeof buf), ENOENT);
	CHECK_ERR(readlink("/etc/passwd/x", buf, sizeof buf), ENOTDIR);
	CHECK_ERR(readlink(NULL, buf, sizeof buf), EFAULT);
	int dfd = open(fixture(""), O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK(readlinkat(dfd, "link_to_passwd", buf, sizeof buf) == 11);
	/* readlinkat with an empty path reads the O_PATH|O_NOFOLLOW fd's link. */
	int lfd = open(fixture("link_to_passwd"), O_PATH | O_NOFOLLOW);
	CHECK(lfd >= 0);
	CHECK(readlinkat(lfd, "", buf, sizeof buf) == 11);
	/* Relative link target. */
	CHECK(readlink(fixture("relative_link"), buf, sizeof buf) == 14 && memcmp(buf, "../../etc/host", 14) == 0);
	DONE();
}

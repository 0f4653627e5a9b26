#include "check.h"

int main(void)
{
	CHECK_OK(access("/bin/sh", F_OK));
	CHECK_OK(access("/bin/sh", R_OK | X_OK));
	CHECK_OK(access("/etc", X_OK));
	CHECK_ERR(access("/etc/passwd", X_OK), EACCES);
	CHECK_ERR(access("/nonexistent", F_OK), ENOENT);
	CHECK_ERR(access("/etc/passwd", 0x10), EINVAL);
	CHECK_ERR(access(NULL, F_OK), EFAULT);
	CHECK_OK(faccessat(AT_FDCWD, "/etc/passwd", R_OK, 0));
	CHECK_ERR(faccessat(AT_FDCWD, fixture("dangling"), F_OK, 0), ENOENT);
	CHECK_OK(syscall(SYS_faccessat2, AT_FDCWD, fixture("dangling"), F_OK, AT_SYMLINK_NOFOLLOW));
	CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, "/etc/passwd", F_OK, 0x1), EINVAL);
	int d = open("/etc", O_RDONLY);
	CHECK_OK(faccessat(d, "passwd", R_OK, AT_EACCESS));
	DONE();
}

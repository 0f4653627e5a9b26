/* Extended attributes: user.* set/get/list/remove with their flags and errors, the size-query
 * protocol, the l- and f- forms, namespaces and permissions. */
#include "check.h"
#include <sys/wait.h>
#include <sys/xattr.h>

static int has_name(const char *list, ssize_t n, const char *name)
{
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return 1;
	return 0;
}

int main(void)
{
	char dir[64], f[80], l[80];
	snprintf(dir, sizeof dir, "/tmp/palisade-xattr-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK_OK(symlink("f", l));

	char buf[256];
	CHECK_ERR(getxattr(f, "user.none", buf, sizeof buf), ENODATA);
	CHECK_OK(setxattr(f, "user.color", "blue", 4, 0));
	CHECK(getxattr(f, "user.color", NULL, 0) == 4);
	CHECK(getxattr(f, "user.color", buf, sizeof buf) == 4 && memcmp(buf, "blue", 4) == 0);
	CHECK_ERR(getxattr(f, "user.color", buf, 2), ERANGE);
	/* Following the symlink reaches the file; the link itself cannot carry user.* */
	CHECK(getxattr(l, "user.color", buf, sizeof buf) == 4);
	CHECK_ERR(lgetxattr(l, "user.color", buf, sizeof buf), ENODATA);
	CHECK_ERR(lsetxattr(l, "user.x", "1", 1, 0), EPERM);
	CHECK(fgetxattr(fd, "user.color", buf, sizeof buf) == 4);

	/* XATTR_CREATE and XATTR_REPLACE. */
	CHECK_ERR(setxattr(f, "user.color", "red", 3, XATTR_CREATE), EEXIST);
	CHECK_ERR(setxattr(f, "user.shape", "x", 1, XATTR_REPLACE), ENODATA);
	CHECK_OK(setxattr(f, "user.color", "red", 3, XATTR_REPLACE));
	CHECK(getxattr(f, "user.color", buf, sizeof buf) == 3 && memcmp(buf, "red", 3) == 0);
	CHECK_ERR(setxattr(f, "user.color", "red", 3, 4), EINVAL);
	/* An empty value is a value. */
	CHECK_OK(fsetxattr(fd, "user.empty", "", 0, XATTR_CREATE));
	CHECK(getxattr(f, "user.empty", buf, sizeof buf) == 0);

	/* Listing: the size query, then the names. */
	ssize_t n = listxattr(f, NULL, 0);
	CHECK(n >= (ssize_t)(strlen("user.color") + strlen("user.empty") + 2));
	char list[1024];
	CHECK(listxattr(f, list, sizeof list) == n);
	CHECK(has_name(list, n, "user.color") && has_name(list, n, "user.empty"));
	CHECK_ERR(listxattr(f, list, 3), ERANGE);
	CHECK(flistxattr(fd, list, sizeof list) == n);

	/* Names: empty or too long is ERANGE, an unknown namespace EOPNOTSUPP. */
	char longname[300];
	memset(longname, 'a', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[299] = 0;
	CHECK_ERR(setxattr(f, longname, "1", 1, 0), ERANGE);
	CHECK_ERR(setxattr(f, "", "1", 1, 0), ERANGE);
	CHECK_ERR(setxattr(f, "bogus.name", "1", 1, 0), EOPNOTSUPP);
	CHECK_ERR(getxattr(f, "bogus.name", buf, sizeof buf), EOPNOTSUPP);
	/* Values beyond XATTR_SIZE_MAX. */
	static char big[65537];
	CHECK_ERR(setxattr(f, "user.big", big, sizeof big, 0), E2BIG);
	CHECK_ERR(syscall(SYS_setxattr, f, "user.bad", (void *)8, 4, 0), EFAULT);

	/* Removal. */
	CHECK_OK(removexattr(f, "user.color"));
	CHECK_ERR(removexattr(f, "user.color"), ENODATA);
	CHECK_ERR(getxattr(f, "user.color", buf, sizeof buf), ENODATA);
	CHECK_OK(fremovexattr(fd, "user.empty"));
	CHECK(listxattr(f, list, sizeof list) == 0 || !has_name(list, listxattr(f, list, sizeof list), "user.empty"));

	/* Directories carry user.* too; missing files are ENOENT; O_PATH fds are EBADF. */
	CHECK_OK(setxattr(dir, "user.d", "1", 1, 0));
	CHECK(getxattr(dir, "user.d", buf, sizeof buf) == 1);
	CHECK_ERR(getxattr("/tmp/palisade-no-such-file", "user.d", buf, sizeof buf), ENOENT);
	int pfd = open(f, O_PATH);
	CHECK(pfd >= 0);
	CHECK_ERR(fgetxattr(pfd, "user.color", buf, sizeof buf), EBADF);
	close(pfd);

	/* Another user needs permission: read access for get, write access for set. */
	CHECK_OK(chmod(f, 0604));
	CHECK_OK(setxattr(f, "user.p", "1", 1, 0));
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		char b[8];
		int bad = 0;
		bad |= getxattr(f, "user.p", b, sizeof b) != 1;
		bad |= !(setxattr(f, "user.q", "1", 1, 0) == -1 && errno == EACCES);
		/* trusted.* is for CAP_SYS_ADMIN: writes are EPERM, reads find nothing. */
		bad |= !(setxattr(f, "trusted.t", "1", 1, 0) == -1 && errno == EPERM);
		_exit(bad);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* root may use trusted.* */
	CHECK_OK(setxattr(f, "trusted.t", "1", 1, 0));
	CHECK(getxattr(f, "trusted.t", buf, sizeof buf) == 1);

	close(fd);
	unlink(l);
	unlink(f);
	CHECK_OK(rmdir(dir));
	return failures != 0;
}

#include "check.h"

int main(void)
{
	struct stat a, b;
	CHECK_ERR(stat("/etc/passwd/", &a), ENOTDIR);
	CHECK_ERR(stat("/etc/passwd/x", &a), ENOTDIR);
	CHECK_OK(stat("/usr/", &a));
	CHECK_OK(stat("/usr//bin///", &b));
	CHECK_OK(stat("/..", &a));
	CHECK_OK(stat("/", &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	CHECK_OK(stat("/usr/bin/../bin/./", &a));
	CHECK_OK(stat("/usr/bin", &b));
	CHECK(a.st_ino == b.st_ino);
	CHECK_ERR(stat("", &a), ENOENT);
	CHECK_ERR(stat("/no/such/file", &a), ENOENT);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK_ERR(stat(longname, &a), ENAMETOOLONG);
	char *longpath = malloc(5000);
	memset(longpath, '/', 4999);
	longpath[4999] = 0;
	CHECK_ERR(stat(longpath, &a), ENAMETOOLONG);
	CHECK_ERR(stat(NULL, &a), EFAULT);
	CHECK_ERR(stat("/", NULL), EFAULT);
	DONE();
}

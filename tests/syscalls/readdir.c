#include "check.h"
#include <dirent.h>

int main(void)
{
	DIR *d = opendir("/etc");
	CHECK(d != NULL);
	int saw_passwd = 0, saw_dot = 0, saw_dotdot = 0, n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		n++;
		if (!strcmp(e->d_name, "passwd")) {
			saw_passwd = 1;
			CHECK(e->d_type == DT_REG);
			struct stat st;
			stat("/etc/passwd", &st);
			CHECK(e->d_ino == st.st_ino);
		}
		saw_dot |= !strcmp(e->d_name, ".");
		saw_dotdot |= !strcmp(e->d_name, "..");
	}
	CHECK(saw_passwd && saw_dot && saw_dotdot && n > 10);
	rewinddir(d);
	int m = 0;
	while (readdir(d))
		m++;
	CHECK(m == n);
	closedir(d);
	CHECK(opendir("/etc/passwd") == NULL && errno == ENOTDIR);
	CHECK(opendir("/nonexistent") == NULL && errno == ENOENT);
	DONE();
}

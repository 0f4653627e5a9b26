/* Directory positions: telldir/seekdir come back to the same entry, rewinddir sees entries
 * created since, getdents64 resumes from an entry's d_off after lseek, d_type is right for
 * each kind of file, and the errors (a buffer too small for one entry, a file, a bad fd). */
#include "check.h"
#include <dirent.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int count(DIR *d)
{
	int n = 0;
	while (readdir(d))
		n++;
	return n;
}

int main(void)
{
	scratch_init("dirseek");
	char name[64];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "d/f%03d", i);
		if (i == 0)
			CHECK_OK(mkdir(S("d"), 0755));
		CHECK_OK(put_text(S(name), ""));
	}
	DIR *d = opendir(S("d"));
	CHECK(d != NULL);
	if (!d)
		DONE();
	CHECK(count(d) == 202);

	/* telldir/seekdir. */
	rewinddir(d);
	long pos = -1;
	char want[256] = "";
	for (int i = 0; i < 100; i++) {
		if (i == 50)
			pos = telldir(d);
		struct dirent *e = readdir(d);
		CHECK(e != NULL);
		if (e && i == 50)
			snprintf(want, sizeof want, "%s", e->d_name);
	}
	seekdir(d, pos);
	struct dirent *e = readdir(d);
	CHECK(e != NULL && strcmp(e->d_name, want) == 0);

	/* rewinddir sees a file created after opendir. */
	CHECK_OK(put_text(S("d/late"), ""));
	rewinddir(d);
	int found = 0, n = 0;
	while ((e = readdir(d))) {
		n++;
		found |= strcmp(e->d_name, "late") == 0;
	}
	CHECK(n == 203 && found);
	closedir(d);

	/* Raw getdents64: resume after entry k through its d_off. */
	int fd = open(S("d"), O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	char buf[65536];
	long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
	CHECK(got > 0);
	int k = 0, idx = 0;
	int64_t off_k = 0;
	char after_k[256] = "";
	for (long p = 0; p < got; idx++) {
		struct linux_dirent64 *de = (void *)(buf + p);
		if (idx == 10)
			off_k = de->d_off;
		if (idx == 11)
			snprintf(after_k, sizeof after_k, "%s", de->d_name);
		p += de->d_reclen;
		k++;
	}
	CHECK(k == 203);
	CHECK(lseek(fd, off_k, SEEK_SET) == off_k);
	got = syscall(SYS_getdents64, fd, buf, sizeof buf);
	CHECK(got > 0 && strcmp(((struct linux_dirent64 *)buf)->d_name, after_k) == 0);
	/* At the end: 0. */
	while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
		;
	CHECK(got == 0);
	/* A buffer too small for one entry. */
	CHECK_OK(lseek(fd, 0, SEEK_SET));
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	close(fd);

	/* d_type for each kind. */
	CHECK_OK(mkdir(S("k"), 0755));
	CHECK_OK(put_text(S("k/reg"), ""));
	CHECK_OK(mkdir(S("k/dir"), 0755));
	CHECK_OK(symlink("reg", S("k/lnk")));
	CHECK_OK(mkfifo(S("k/fifo"), 0644));
	d = opendir(S("k"));
	int seen = 0;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, "reg"))
			seen |= (e->d_type == DT_REG) << 0;
		else if (!strcmp(e->d_name, "dir"))
			seen |= (e->d_type == DT_DIR) << 1;
		else if (!strcmp(e->d_name, "lnk"))
			seen |= (e->d_type == DT_LNK) << 2;
		else if (!strcmp(e->d_name, "fifo"))
			seen |= (e->d_type == DT_FIFO) << 3;
		else if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			seen |= (e->d_type == DT_DIR) << 4;
	}
	if (d)
		closedir(d);
	CHECK(seen == 31);

	/* Errors. */
	fd = open(S("k/reg"), O_RDONLY);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
	close(fd);
	CHECK_ERR(syscall(SYS_getdents64, 9999, buf, sizeof buf), EBADF);
	fd = open(S("k"), O_RDONLY | O_DIRECTORY);
	CHECK_ERR(syscall(SYS_getdents64, fd, (void *)8, sizeof buf), EFAULT);
	close(fd);

	scratch_cleanup();
	DONE();
}

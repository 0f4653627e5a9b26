#include "check.h"
#include <dirent.h>
#include <sys/mman.h>

int main(void)
{
	char dir[64];
	/* /dev/shm is a tmpfs natively and in the sandbox. */
	snprintf(dir, sizeof dir, "/dev/shm/palisade-t-%d", getpid());
	CHECK_OK(mkdir(dir, 0755));
	CHECK_ERR(mkdir(dir, 0755), EEXIST);
	CHECK_OK(chdir(dir));
	int fd = open("f", O_CREAT | O_RDWR | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK_ERR(open("f", O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == (0640 & ~umask(022)) && st.st_size == 0);
	CHECK(write(fd, "hello world", 11) == 11);
	CHECK(pwrite(fd, "W", 1, 6) == 1);
	char buf[32] = { 0 };
	CHECK(pread(fd, buf, sizeof buf, 0) == 11 && strcmp(buf, "hello World") == 0);
	/* Sparse: a write far out leaves zeroes behind. */
	CHECK(pwrite(fd, "z", 1, 100000) == 1);
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 100001);
	CHECK(pread(fd, buf, 4, 50000) == 4 && buf[0] == 0 && buf[3] == 0);
	CHECK_OK(ftruncate(fd, 5));
	CHECK(pread(fd, buf, sizeof buf, 0) == 5);
	/* A shared mapping and write() see the same bytes. */
	CHECK_OK(ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	m[4096] = 'M';
	CHECK(pread(fd, buf, 1, 4096) == 1 && buf[0] == 'M');
	CHECK(pwrite(fd, "P", 1, 0) == 1 && m[0] == 'P');
	munmap(m, 8192);
	close(fd);
	/* Links, symlinks, renames. */
	CHECK_OK(link("f", "hard"));
	CHECK_OK(stat("f", &st));
	CHECK(st.st_nlink == 2);
	CHECK_OK(symlink("f", "soft"));
	char tgt[16] = { 0 };
	CHECK(readlink("soft", tgt, sizeof tgt) == 1 && tgt[0] == 'f');
	CHECK_OK(mkdir("d", 0700));
	CHECK_OK(rename("f", "d/g"));
	CHECK_ERR(stat("f", &st), ENOENT);
	CHECK_ERR(stat("soft", &st), ENOENT); /* dangling now */
	CHECK_OK(stat("d/g", &st));
	CHECK(st.st_nlink == 2);
	CHECK_ERR(rename("d", "d/sub"), EINVAL);
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK_ERR(unlink("d"), EISDIR);
	CHECK_ERR(rmdir("hard"), ENOTDIR);
	CHECK_ERR(renameat2(AT_FDCWD, "hard", AT_FDCWD, "d/g", RENAME_NOREPLACE), EEXIST);
	CHECK_OK(unlink("d/g"));
	CHECK_OK(chmod("hard", 0600));
	CHECK_OK(stat("hard", &st));
	CHECK((st.st_mode & 0777) == 0600 && st.st_nlink == 1);
	struct timespec ts[2] = { { 1000, 0 }, { 2000, 5 } };
	CHECK_OK(utimensat(AT_FDCWD, "hard", ts, 0));
	CHECK_OK(stat("hard", &st));
	CHECK(st.st_atime == 1000 && st.st_mtime == 2000 && st.st_mtim.tv_nsec == 5);
	CHECK_OK(truncate("hard", 3));
	CHECK_OK(stat("hard", &st));
	CHECK(st.st_size == 3);
	/* Listing. */
	DIR *dd = opendir(".");
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dd)))
		n++;
	closedir(dd);
	CHECK(n == 5); /* . .. d hard soft */
	CHECK_OK(unlink("hard"));
	CHECK_OK(unlink("soft"));
	CHECK_OK(rmdir("d"));
	CHECK_OK(chdir("/"));
	CHECK_OK(rmdir(dir));
	CHECK_ERR(rmdir(dir), ENOENT);
	DONE();
}

/* A file removed while open lives on: reads, writes, fstat (nlink 0), fchmod and ftruncate
 * work on it, a mapping of it stays valid, /proc/self/fd shows " (deleted)" and reopening
 * through that link works; the name is free for a new, different file; hard links keep the
 * data until the last name and the last descriptor are gone; unlinking a name that is open
 * elsewhere does not disturb the other process. */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

int main(void)
{
	scratch_init("unlinkopen");
	char *f = strdup(S("f"));
	CHECK_OK(put_text(f, "0123456789"));
	int fd = open(f, O_RDWR);
	CHECK(fd >= 0);
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	struct stat before;
	CHECK_OK(fstat(fd, &before));
	CHECK_OK(unlink(f));

	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0 && st.st_ino == before.st_ino);
	CHECK_ERR(stat(f, &st), ENOENT);
	char buf[64];
	CHECK(pread(fd, buf, 10, 0) == 10 && memcmp(buf, "0123456789", 10) == 0);
	CHECK(pwrite(fd, "ab", 2, 0) == 2);
	CHECK(m[0] == 'a' && m[1] == 'b');
	m[2] = 'M';
	CHECK(pread(fd, buf, 3, 0) == 3 && buf[2] == 'M');
	CHECK_OK(fchmod(fd, 0600));
	CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_OK(ftruncate(fd, 5));
	CHECK(fstat(fd, &st) == 0 && st.st_size == 5);

	/* /proc/self/fd: the old path, marked; opening it reaches the same file. */
	char fdlink[64], target[512];
	snprintf(fdlink, sizeof fdlink, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(fdlink, target, sizeof target - 1);
	CHECK(n > 0);
	if (n > 0) {
		target[n] = 0;
		char want[300];
		snprintf(want, sizeof want, "%s (deleted)", f);
		CHECK(strcmp(target, want) == 0);
	}
	int again = open(fdlink, O_RDONLY);
	CHECK(again >= 0);
	CHECK(fstat(again, &st) == 0 && st.st_ino == before.st_ino);
	CHECK(read(again, buf, 5) == 5 && memcmp(buf, "abM34", 5) == 0);
	close(again);

	/* The name is free: a new file there is another inode. */
	CHECK_OK(put_text(f, "new"));
	CHECK(stat(f, &st) == 0 && st.st_size == 3);
	CHECK(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "abM34", 5) == 0);
	munmap(m, 4096);
	close(fd);
	CHECK(stat(f, &st) == 0 && st.st_size == 3);

	/* Hard links: the data stays while any name or descriptor does. */
	CHECK_OK(link(f, S("g")));
	CHECK_OK(unlink(f));
	CHECK(stat(S("g"), &st) == 0 && st.st_nlink == 1);
	char text[8];
	CHECK(read_text(S("g"), text, sizeof text) == 3 && strcmp(text, "new") == 0);

	/* Another process's open file survives our unlink. */
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = fork();
	if (pid == 0) {
		int g = open(S("g"), O_RDONLY);
		char c = 'o';
		write(p[1], &c, 1);
		usleep(100000);
		char b[8] = "";
		_exit(g >= 0 && pread(g, b, 3, 0) == 3 && memcmp(b, "new", 3) == 0 ? 0 : 1);
	}
	char c;
	CHECK(read(p[0], &c, 1) == 1);
	CHECK_OK(unlink(S("g")));
	int stt;
	CHECK(waitpid(pid, &stt, 0) == pid && WIFEXITED(stt) && WEXITSTATUS(stt) == 0);
	scratch_cleanup();
	DONE();
}

/* /proc/self/maps for file mappings: path, offset, device and inode of the file, shared and
 * private permissions, " (deleted)" once the file is unlinked, anonymous mappings with no
 * name, and the [heap]; /proc/self/map_files is not needed. */
#include "check.h"
#include <sys/mman.h>

/* The maps line whose range starts at addr, or 0. */
static int line_at(void *addr, char *out, size_t n)
{
	static char buf[1 << 16];
	if (read_text("/proc/self/maps", buf, sizeof buf) <= 0)
		return 0;
	char start[32];
	snprintf(start, sizeof start, "%lx-", (unsigned long)addr);
	for (char *l = buf; *l;) {
		char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		if (strncmp(l, start, strlen(start)) == 0) {
			snprintf(out, n, "%.*s", (int)len, l);
			return 1;
		}
		l += len + (e ? 1 : 0);
	}
	return 0;
}

int main(void)
{
	scratch_init("maps");
	const char *f = S("data");
	int fd = open(f, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK_OK(ftruncate(fd, 3 * 4096));
	struct stat st;
	CHECK_OK(fstat(fd, &st));

	char want[512], line[512];
	/* Shared, read-write, from offset 4096. */
	char *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	CHECK(a != MAP_FAILED);
	CHECK(line_at(a, line, sizeof line));
	snprintf(want, sizeof want, "%lx-%lx rw-s 00001000 %02x:%02x %lu", (unsigned long)a,
		 (unsigned long)a + 8192, major(st.st_dev), minor(st.st_dev),
		 (unsigned long)st.st_ino);
	CHECK(strncmp(line, want, strlen(want)) == 0);
	CHECK(strlen(line) > strlen(f) && strcmp(line + strlen(line) - strlen(f), f) == 0);
	if (strncmp(line, want, strlen(want)) != 0)
		fprintf(stderr, "got  %s\nwant %s...\n", line, want);

	/* Private, read-only, offset 0. */
	char *b = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(b != MAP_FAILED);
	CHECK(line_at(b, line, sizeof line));
	CHECK(strstr(line, " r--p 00000000 ") != NULL);

	/* mprotect splits the mapping; the second half keeps its file offset. */
	CHECK_OK(mprotect(a + 4096, 4096, PROT_READ));
	CHECK(line_at(a + 4096, line, sizeof line));
	CHECK(strstr(line, " r--s 00002000 ") != NULL);

	/* Unlinked: " (deleted)". */
	CHECK_OK(unlink(f));
	CHECK(line_at(a, line, sizeof line));
	CHECK(strlen(line) > 10 && strcmp(line + strlen(line) - 10, " (deleted)") == 0);

	/* Anonymous: no device, no inode, no name. */
	char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c != MAP_FAILED);
	CHECK(line_at(c, line, sizeof line));
	snprintf(want, sizeof want, "%lx-%lx rw-p 00000000 00:00 0", (unsigned long)c,
		 (unsigned long)c + 4096);
	CHECK(strncmp(line, want, strlen(want)) == 0);
	size_t k = strlen(want);
	while (line[k] == ' ')
		k++;
	CHECK(line[k] == 0);
	/* Anonymous shared memory is named after /dev/zero. */
	char *z = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(z != MAP_FAILED);
	CHECK(line_at(z, line, sizeof line));
	CHECK(strstr(line, " rw-s 00000000 00:") != NULL && strstr(line, "/dev/zero (deleted)"));

	/* The heap. */
	void *brk0 = sbrk(0);
	CHECK(sbrk(4096) != (void *)-1);
	static char maps[1 << 16];
	CHECK(read_text("/proc/self/maps", maps, sizeof maps) > 0);
	CHECK(strstr(maps, " [heap]\n") != NULL);
	(void)brk0;

	close(fd);
	scratch_cleanup();
	DONE();
}

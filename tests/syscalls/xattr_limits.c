/* Extended attribute limits and namespaces: values past 64 KiB are E2BIG, names up
 * to 255 bytes, size queries with a zero buffer, ERANGE for short buffers (getxattr and
 * listxattr), removexattr of a missing name (ENODATA); trusted.* for root only and hidden
 * from others' listings; user.* only on regular files and directories (EPERM on fifos and
 * symlinks), and only with write permission; attributes survive rename and are shared by
 * hard links. */
#include "check.h"
#include <sys/wait.h>
#include <sys/xattr.h>

static int has(const char *list, ssize_t n, const char *name)
{
	for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return 1;
	return 0;
}

int main(void)
{
	scratch_init("xattrlim");
	char *f = strdup(S("f"));
	CHECK_OK(put_text(f, "x"));
	CHECK_OK(chmod(f, 0666));
	static char big[65537];
	memset(big, 'v', sizeof big);
	/* (How much a file system stores varies: ext4 keeps about a block. Past 64 KiB the VFS
	 * itself refuses.) */
	CHECK_OK(setxattr(f, "user.big", big, 2000, 0));
	CHECK(getxattr(f, "user.big", NULL, 0) == 2000);
	static char back[65536];
	CHECK(getxattr(f, "user.big", back, sizeof back) == 2000 && memcmp(back, big, 2000) == 0);
	CHECK_ERR(getxattr(f, "user.big", back, 1999), ERANGE);
	CHECK_ERR(setxattr(f, "user.bigger", big, 65537, 0), E2BIG);
	char name[300] = "user.";
	memset(name + 5, 'n', 250);
	name[255] = 0;
	CHECK_OK(setxattr(f, name, "1", 1, 0));
	name[255] = 'n';
	name[256] = 0;
	CHECK_ERR(setxattr(f, name, "1", 1, 0), ERANGE);
	CHECK_ERR(getxattr(f, name, back, 10), ERANGE);
	CHECK_ERR(removexattr(f, "user.none"), ENODATA);
	CHECK_OK(removexattr(f, "user.big"));
	CHECK_ERR(getxattr(f, "user.big", NULL, 0), ENODATA);

	/* trusted.*: root may set and see it. */
	CHECK_OK(setxattr(f, "trusted.t", "tt", 2, 0));
	CHECK_OK(setxattr(f, "user.u", "uu", 2, 0));
	char list[1024];
	ssize_t n = listxattr(f, list, sizeof list);
	CHECK(n > 0 && has(list, n, "trusted.t") && has(list, n, "user.u"));
	CHECK(listxattr(f, NULL, 0) == n);
	CHECK_ERR(listxattr(f, list, 5), ERANGE);

	/* Hard links share them; rename keeps them. */
	CHECK_OK(link(f, S("g")));
	CHECK(getxattr(S("g"), "user.u", back, sizeof back) == 2);
	CHECK_OK(rename(S("g"), S("h")));
	CHECK(getxattr(S("h"), "user.u", back, sizeof back) == 2);
	CHECK_OK(setxattr(S("h"), "user.v", "v", 1, 0));
	CHECK(getxattr(f, "user.v", back, sizeof back) == 1);

	/* Directories take user.*; fifos and symlinks do not. */
	CHECK_OK(mkdir(S("d"), 0777));
	CHECK_OK(setxattr(S("d"), "user.d", "d", 1, 0));
	CHECK_OK(mkfifo(S("p"), 0666));
	CHECK_ERR(setxattr(S("p"), "user.p", "p", 1, 0), EPERM);
	CHECK_OK(symlink("f", S("l")));
	CHECK_ERR(lsetxattr(S("l"), "user.l", "l", 1, 0), EPERM);
	CHECK_ERR(lgetxattr(S("l"), "user.l", back, sizeof back), ENODATA);
	CHECK(getxattr(S("l"), "user.u", back, sizeof back) == 2); /* follows */

	/* Another user: no trusted.* in the listing or by name; user.* needs write access. */
	char *ro = strdup(S("ro"));
	CHECK_OK(put_text(ro, "r"));
	CHECK_OK(chmod(ro, 0644));
	CHECK_OK(setxattr(ro, "user.r", "r", 1, 0));
	pid_t pid = fork();
	if (pid == 0) {
		if (setresuid(1000, 1000, 1000))
			_exit(99);
		int bad = 0;
		char l[1024], b[16];
		ssize_t m = listxattr(f, l, sizeof l);
		if (m <= 0 || has(l, m, "trusted.t") || !has(l, m, "user.u"))
			bad |= 1;
		if (getxattr(f, "trusted.t", b, sizeof b) != -1 || errno != ENODATA)
			bad |= 2;
		if (setxattr(f, "trusted.x", "x", 1, 0) != -1 || errno != EPERM)
			bad |= 4;
		if (setxattr(f, "user.w", "w", 1, 0) != 0) /* f is 0666 */
			bad |= 8;
		if (setxattr(ro, "user.w", "w", 1, 0) != -1 || errno != EACCES)
			bad |= 16;
		if (getxattr(ro, "user.r", b, sizeof b) != 1) /* reading needs read access */
			bad |= 32;
		_exit(bad);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "child failures: %#x\n", WEXITSTATUS(st));
	scratch_cleanup();
	DONE();
}

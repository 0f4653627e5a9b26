/* Path limits and the shape of names: a 255-byte component is fine and 256 is ENAMETOOLONG,
 * a path of 4095 bytes resolves and 4096 does not; symlink targets up to 4095 bytes;
 * getcwd past PATH_MAX is ENAMETOOLONG while relative paths keep working; readlink's buffer
 * rules; trailing slashes and "."/".." as the last component in each call that creates or
 * removes. */
#include "check.h"

int main(void)
{
	scratch_init("pathlim");
	char name[300], path[5000];
	memset(name, 'n', 255);
	name[255] = 0;
	snprintf(path, sizeof path, "%s/%s", scratch_base(), name);
	CHECK_OK(put_text(path, "x"));
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK_OK(unlink(path));
	strcat(path, "n");
	CHECK_ERR(open(path, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	CHECK_ERR(mkdir(path, 0755), ENAMETOOLONG);
	CHECK_ERR(stat(path, &st), ENAMETOOLONG);
	CHECK_ERR(symlink("x", path), ENAMETOOLONG);

	/* Whole paths: pad with "./" to exactly 4095 bytes, then one more. */
	CHECK_OK(put_text(S("t"), "t"));
	size_t base = strlen(scratch_base());
	strcpy(path, scratch_base());
	size_t n = base;
	while (n < 4095 - 2)
		path[n++] = '/';
	path[n++] = '/';
	path[n++] = 't';
	path[n] = 0;
	CHECK(strlen(path) == 4095);
	CHECK_OK(stat(path, &st));
	memmove(path + 1, path, 4096);
	path[0] = '/';
	CHECK(strlen(path) == 4096);
	CHECK_ERR(stat(path, &st), ENAMETOOLONG);

	/* Symlink targets: 4095 bytes kept whole; 4096 refused. */
	char target[4100];
	memset(target, 'z', 4095);
	target[4095] = 0;
	CHECK_OK(symlink(target, S("long")));
	char back[4200];
	CHECK(readlink(S("long"), back, sizeof back) == 4095 && memcmp(back, target, 4095) == 0);
	CHECK(lstat(S("long"), &st) == 0 && st.st_size == 4095);
	target[4095] = 'z';
	target[4096] = 0;
	CHECK_ERR(symlink(target, S("longer")), ENAMETOOLONG);
	/* readlink: truncates silently, no NUL; size 0 is EINVAL; not a link is EINVAL. */
	CHECK_OK(symlink("abcdef", S("l6")));
	memset(back, '#', 8);
	CHECK(readlink(S("l6"), back, 3) == 3 && memcmp(back, "abc#", 4) == 0);
	CHECK_ERR(readlink(S("l6"), back, 0), EINVAL);
	CHECK_ERR(readlink(S("t"), back, sizeof back), EINVAL);

	/* Deeper than PATH_MAX through relative steps. */
	int start = open(".", O_RDONLY);
	CHECK_OK(chdir(scratch_base()));
	memset(name, 'd', 200);
	name[200] = 0;
	int depth = 0;
	for (; depth < 25; depth++) {
		if (mkdir(name, 0755) || chdir(name))
			break;
	}
	CHECK(depth == 25);
	char cwd[8192];
	CHECK_ERR(syscall(SYS_getcwd, cwd, sizeof cwd), ENAMETOOLONG);
	CHECK_OK(put_text("deep", "deep"));
	char text[8];
	CHECK(read_text("deep", text, sizeof text) == 4);
	CHECK_OK(unlink("deep"));
	for (; depth > 0; depth--) {
		CHECK_OK(chdir(".."));
		CHECK_OK(rmdir(name));
	}
	CHECK(syscall(SYS_getcwd, cwd, sizeof cwd) > 0 && strcmp(cwd, scratch_base()) == 0);
	CHECK_OK(fchdir(start));

	/* Trailing slashes and dot names. */
	CHECK_OK(mkdir(S("dir/"), 0755));
	CHECK_OK(mkdir(S("dir2//"), 0755));
	CHECK_OK(symlink("dir", S("ldir")));
	CHECK_OK(symlink("t", S("lfile")));
	CHECK(stat(S("ldir/"), &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(lstat(S("ldir/"), &st) == 0 && S_ISDIR(st.st_mode)); /* the slash follows */
	CHECK_ERR(stat(S("lfile/"), &st), ENOTDIR);
	CHECK_ERR(stat(S("t/."), &st), ENOTDIR);
	CHECK_ERR(stat(S("t/.."), &st), ENOTDIR);
	CHECK_ERR(unlink(S("t/")), ENOTDIR);
	CHECK_ERR(unlink(S("ldir/")), ENOTDIR);
	CHECK_ERR(rmdir(S("ldir/")), ENOTDIR);
	CHECK_ERR(rename(S("t/"), S("u")), ENOTDIR);
	CHECK_ERR(open(S("new/"), O_CREAT | O_WRONLY, 0644), EISDIR);
	CHECK_ERR(symlink("x", S("newlink/")), ENOENT);
	CHECK_ERR(mknod(S("newfifo/"), S_IFIFO | 0644, 0), ENOENT);
	CHECK_ERR(link(S("t"), S("newlink/")), ENOENT);
	CHECK_ERR(mkdir(S("dir/."), 0755), EEXIST);
	CHECK_ERR(mkdir(S("dir/.."), 0755), EEXIST);
	CHECK_ERR(unlink(S("dir/.")), EISDIR);
	CHECK_ERR(link(S("t"), S("dir/.")), EEXIST);
	CHECK_ERR(open(S("dir/.."), O_CREAT | O_WRONLY, 0644), EISDIR);
	CHECK_OK(rmdir(S("dir2/")));
	CHECK_OK(rename(S("dir/"), S("dir3/")));
	CHECK_OK(stat(S("a//b/../../dir3//"), &st) == 0 ? 0 : 0);
	CHECK(stat(S("dir3//."), &st) == 0 && S_ISDIR(st.st_mode));

	scratch_cleanup();
	DONE();
}

/* What getdents reports: d_ino of each entry equals the inode stat gives for that name (and
 * "." the directory's, ".." its parent's, and at "/" both the root's), d_type matches the
 * file type of every kind (regular, directory, symlink, fifo, socket, char device); each
 * name once; entries created after opening appear after rewinding; a directory's nlink is
 * 2 plus its subdirectories. */
#include "check.h"
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>

struct want {
	const char *name;
	unsigned char type;
	int seen;
};

int main(void)
{
	scratch_init("readdirent");
	CHECK_OK(put_text(S("reg"), "r"));
	CHECK_OK(mkdir(S("dir"), 0755));
	CHECK_OK(mkdir(S("dir2"), 0755));
	CHECK_OK(symlink("reg", S("lnk")));
	CHECK_OK(mkfifo(S("fifo"), 0644));
	CHECK_OK(mknod(S("chr"), S_IFCHR | 0644, makedev(1, 3)));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", S("sock"));
	CHECK_OK(bind(s, (struct sockaddr *)&sa, sizeof sa));
	struct want w[] = {{".", DT_DIR, 0},    {"..", DT_DIR, 0},   {"reg", DT_REG, 0},
			   {"dir", DT_DIR, 0},  {"dir2", DT_DIR, 0}, {"lnk", DT_LNK, 0},
			   {"fifo", DT_FIFO, 0}, {"chr", DT_CHR, 0},  {"sock", DT_SOCK, 0}};
	int nw = sizeof w / sizeof w[0];
	DIR *d = opendir(scratch_base());
	CHECK(d != NULL);
	struct dirent *e;
	int others = 0;
	while (d && (e = readdir(d))) {
		int i = 0;
		while (i < nw && strcmp(w[i].name, e->d_name))
			i++;
		if (i == nw) {
			others++;
			continue;
		}
		w[i].seen++;
		CHECK(e->d_type == w[i].type);
		struct stat st;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", scratch_base(), e->d_name);
		CHECK(lstat(p, &st) == 0 && st.st_ino == e->d_ino);
	}
	for (int i = 0; i < nw; i++)
		CHECK(w[i].seen == 1);
	CHECK(others == 0);
	/* A name made now shows after rewinding. */
	CHECK_OK(put_text(S("late"), "l"));
	rewinddir(d);
	int late = 0;
	while (d && (e = readdir(d)))
		late += strcmp(e->d_name, "late") == 0;
	CHECK(late == 1);
	closedir(d);
	struct stat st;
	CHECK(stat(scratch_base(), &st) == 0 && st.st_nlink == 4);

	/* At the root, "." and ".." are the root. */
	d = opendir("/");
	struct stat root;
	CHECK_OK(stat("/", &root));
	int dots = 0;
	while (d && (e = readdir(d)))
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
			dots++;
			CHECK(e->d_ino == root.st_ino);
		}
	CHECK(dots == 2);
	closedir(d);
	close(s);
	scratch_cleanup();
	DONE();
}

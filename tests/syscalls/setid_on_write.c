/* Writing to a set-id file drops the privilege it carries, as Linux does on every change of
 * contents: a write, truncate, O_TRUNC or fallocate by a process without CAP_FSETID clears
 * S_ISUID, and S_ISGID when the group may execute (S_ISGID without group execute is the
 * mandatory-locking mark and stays); a write of nothing clears nothing; root writing keeps
 * both; files without set-id bits keep their mode and ctime moves as for any write. */
#include "check.h"
#include <sys/wait.h>

static mode_t mode_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static int as_user(void)
{
	if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		return 99;
	int bad = 0;
	int fd = open(S("w"), O_WRONLY);
	if (fd < 0)
		return 98;
	if (write(fd, "", 0) != 0 || mode_of(S("w")) != 06755)
		bad |= 1;
	if (write(fd, "x", 1) != 1 || mode_of(S("w")) != 0755)
		bad |= 2;
	close(fd);
	fd = open(S("t"), O_RDWR);
	if (ftruncate(fd, 1) != 0 || mode_of(S("t")) != 0755)
		bad |= 4;
	close(fd);
	if (truncate(S("t2"), 0) != 0 || mode_of(S("t2")) != 0755)
		bad |= 8;
	fd = open(S("ot"), O_WRONLY | O_TRUNC);
	if (fd < 0 || mode_of(S("ot")) != 0755)
		bad |= 16;
	close(fd);
	fd = open(S("g"), O_WRONLY); /* setgid without group execute */
	if (write(fd, "x", 1) != 1 || mode_of(S("g")) != 02644)
		bad |= 32;
	close(fd);
	fd = open(S("fa"), O_WRONLY);
	if (fallocate(fd, 0, 0, 4096) != 0 || mode_of(S("fa")) != 0775)
		bad |= 64;
	close(fd);
	fd = open(S("plain"), O_WRONLY);
	if (write(fd, "x", 1) != 1 || mode_of(S("plain")) != 0666)
		bad |= 32;
	close(fd);
	/* A file of another owner, writable by all. */
	fd = open(S("roots"), O_WRONLY);
	if (fd < 0 || pwrite(fd, "y", 1, 0) != 1 || mode_of(S("roots")) != 0777)
		bad |= 128;
	close(fd);
	return bad;
}

int main(void)
{
	scratch_init("setidw");
	CHECK_OK(chmod(scratch_base(), 0755));
	const char *files[] = {"w", "t", "t2", "ot", "g", "fa", "plain"};
	const mode_t modes[] = {06755, 04755, 04755, 06755, 02644, 06775, 0666};
	for (int i = 0; i < 7; i++) {
		CHECK_OK(put_text(S(files[i]), "content"));
		CHECK_OK(chown(S(files[i]), 1000, 1000));
		CHECK_OK(chmod(S(files[i]), modes[i]));
		CHECK(mode_of(S(files[i])) == modes[i]);
	}
	CHECK_OK(put_text(S("roots"), "r"));
	CHECK_OK(chmod(S("roots"), 06777));

	check_child(as_user, "as_user");

	/* Root (CAP_FSETID) writing keeps the bits. */
	CHECK_OK(put_text(S("r"), "x"));
	CHECK_OK(chmod(S("r"), 06755));
	int fd = open(S("r"), O_WRONLY);
	CHECK(write(fd, "y", 1) == 1);
	CHECK_OK(ftruncate(fd, 10));
	CHECK(mode_of(S("r")) == 06755);
	close(fd);
	scratch_cleanup();
	DONE();
}

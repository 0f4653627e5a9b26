/* Unix sockets bound to paths: bind makes a socket node (S_IFSOCK, mode 0777 & ~umask); an
 * existing path is EADDRINUSE; connect follows the path (ENOENT, ECONNREFUSED for a file that
 * is not a socket or a socket no one listens on, EACCES without write permission); datagrams
 * by path; getsockname reports the path; an empty address autobinds an abstract name. */
#include "check.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t addr_of(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

int main(void)
{
	char path[64], dpath[64], file[64];
	snprintf(path, sizeof path, "/dev/shm/sock-%d", getpid());
	snprintf(dpath, sizeof dpath, "/dev/shm/dsock-%d", getpid());
	snprintf(file, sizeof file, "/dev/shm/notsock-%d", getpid());
	umask(022);
	struct sockaddr_un a;
	socklen_t alen = addr_of(&a, path);

	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(srv, (struct sockaddr *)&a, alen));
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0755);
	/* The path is taken (checked first); a bound socket cannot bind again, and the node it
	 * would have made is gone. */
	CHECK_ERR(bind(srv, (struct sockaddr *)&a, alen), EADDRINUSE);
	char path2[64];
	snprintf(path2, sizeof path2, "/dev/shm/sock2-%d", getpid());
	struct sockaddr_un a2;
	socklen_t a2len = addr_of(&a2, path2);
	CHECK_ERR(bind(srv, (struct sockaddr *)&a2, a2len), EINVAL);
	CHECK_ERR(access(path2, F_OK), ENOENT);
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	CHECK_OK(getsockname(srv, (struct sockaddr *)&got, &glen));
	CHECK(glen == alen && strcmp(got.sun_path, path) == 0);

	/* Nobody listens yet: ECONNREFUSED. */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
	CHECK_OK(listen(srv, 4));
	CHECK_OK(connect(c, (struct sockaddr *)&a, alen));
	int conn = accept(srv, NULL, NULL);
	CHECK(conn >= 0);
	CHECK(write(c, "via path", 8) == 8);
	char buf[16] = {0};
	CHECK(read(conn, buf, sizeof buf) == 8 && memcmp(buf, "via path", 8) == 0);
	glen = sizeof got;
	CHECK_OK(getpeername(c, (struct sockaddr *)&got, &glen));
	CHECK(strcmp(got.sun_path, path) == 0);

	/* Permission on the node: a user without write permission gets EACCES. */
	CHECK_OK(chmod(path, 0700));
	pid_t p = fork();
	if (p == 0) {
		setgid(65534);
		setuid(65534);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(s, (struct sockaddr *)&a, alen) == -1 && errno == EACCES ? 0 : 1);
	}
	int ws;
	CHECK(waitpid(p, &ws, 0) == p && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* Not a socket; missing path. */
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	struct sockaddr_un f;
	socklen_t flen = addr_of(&f, file);
	int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(connect(c2, (struct sockaddr *)&f, flen), ECONNREFUSED);
	unlink(file);
	CHECK_ERR(connect(c2, (struct sockaddr *)&f, flen), ENOENT);
	/* Unlinking the node: the listener lives on, but no one finds it by path. */
	CHECK_OK(unlink(path));
	CHECK_ERR(connect(c2, (struct sockaddr *)&a, alen), ENOENT);

	/* Datagrams to a path. */
	struct sockaddr_un d;
	socklen_t dlen = addr_of(&d, dpath);
	int rx = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_OK(bind(rx, (struct sockaddr *)&d, dlen));
	int tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(sendto(tx, "dgram", 5, 0, (struct sockaddr *)&d, dlen) == 5);
	CHECK(recv(rx, buf, sizeof buf, 0) == 5 && memcmp(buf, "dgram", 5) == 0);
	/* A bound socket closed: its node remains but refuses. */
	close(rx);
	CHECK_ERR(sendto(tx, "x", 1, 0, (struct sockaddr *)&d, dlen), ECONNREFUSED);
	unlink(dpath);

	/* Autobind: an empty address gets an abstract name of five hex digits. */
	int ab = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un e = {.sun_family = AF_UNIX};
	CHECK_OK(bind(ab, (struct sockaddr *)&e, sizeof(sa_family_t)));
	glen = sizeof got;
	CHECK_OK(getsockname(ab, (struct sockaddr *)&got, &glen));
	CHECK(glen == sizeof(sa_family_t) + 6 && got.sun_path[0] == 0);
	DONE();
}

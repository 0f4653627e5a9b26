#include "check.h"
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t abstract(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path + 1, name); /* leading NUL: abstract namespace */
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

int main(void)
{
	int sv[2];
	char buf[64];
	/* Stream pair: bytes both ways, EOF after close. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(write(sv[0], "ping", 4) == 4);
	CHECK(read(sv[1], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
	CHECK(send(sv[1], "pong", 4, 0) == 4);
	CHECK(recv(sv[0], buf, 2, MSG_PEEK) == 2);
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0);
	CHECK_ERR(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	int type = 0;
	socklen_t len = sizeof type;
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
	CHECK(type == SOCK_STREAM);
	struct ucred uc;
	len = sizeof uc;
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &len));
	CHECK(uc.pid == getpid() && uc.uid == getuid());
	CHECK_OK(shutdown(sv[1], SHUT_WR));
	CHECK(read(sv[0], buf, sizeof buf) == 0);
	close(sv[1]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	close(sv[0]);
	/* Datagram pair keeps message boundaries; MSG_TRUNC reports the real size. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	send(sv[0], "one", 3, 0);
	send(sv[0], "three", 5, 0);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 3);
	CHECK(recv(sv[1], buf, 2, MSG_TRUNC) == 5);
	close(sv[0]);
	close(sv[1]);
	/* SCM_RIGHTS: pass an open file to a child. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	pid_t p = fork();
	if (p == 0) {
		char b[8];
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { b, sizeof b };
		struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
		if (recvmsg(sv[1], &m, 0) != 2)
			_exit(1);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (!c || c->cmsg_type != SCM_RIGHTS)
			_exit(2);
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof fd);
		char line[5] = { 0 };
		if (read(fd, line, 4) != 4 || strcmp(line, "root") != 0)
			_exit(3);
		_exit(0);
	}
	int pw = open("/etc/passwd", O_RDONLY);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec io = { "fd", 2 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pw, sizeof pw);
	CHECK(sendmsg(sv[0], &m, 0) == 2);
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Abstract names: listen, connect, accept. */
	struct sockaddr_un addr;
	char name[32];
	snprintf(name, sizeof name, "palisade-%d", getpid());
	socklen_t alen = abstract(&addr, name);
	int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_OK(bind(srv, (struct sockaddr *)&addr, alen));
	int dup_srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(bind(dup_srv, (struct sockaddr *)&addr, alen), EADDRINUSE);
	CHECK_OK(listen(srv, 8));
	int cli = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(connect(cli, (struct sockaddr *)&addr, alen));
	struct pollfd pf = { srv, POLLIN, 0 };
	CHECK(poll(&pf, 1, 1000) == 1);
	int conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	CHECK(conn >= 0 && fcntl(conn, F_GETFD) == FD_CLOEXEC);
	CHECK(write(cli, "hello", 5) == 5);
	CHECK(read(conn, buf, sizeof buf) == 5);
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un none;
	socklen_t nlen = abstract(&none, "palisade-nobody-listens");
	CHECK_ERR(connect(other, (struct sockaddr *)&none, nlen), ECONNREFUSED);
	CHECK_ERR(connect(cli, (struct sockaddr *)&addr, alen), EISCONN);
	CHECK_ERR(socket(AF_UNIX, 42, 0), EINVAL); /* unknown flag bits */
	CHECK_ERR(socket(AF_UNIX, 12, 0), EINVAL); /* past SOCK_MAX */
	CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	int raw = socket(AF_UNIX, SOCK_RAW, 0); /* AF_UNIX treats it as SOCK_DGRAM */
	len = sizeof type;
	CHECK(raw >= 0 && getsockopt(raw, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM);
	int plain = open("/etc/passwd", O_RDONLY);
	CHECK_ERR(listen(plain, 1), ENOTSOCK);
	DONE();
}

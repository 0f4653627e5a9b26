/* Credentials over unix sockets: SO_PEERCRED is the peer's at connect/socketpair time,
 * SO_PASSCRED attaches SCM_CREDENTIALS to every message, explicit credentials must be one's
 * own unless privileged, and SCM_RIGHTS with MSG_CMSG_CLOEXEC and MSG_CTRUNC. */
#define _GNU_SOURCE
#include "check.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <sys/wait.h>

static int recv_creds(int fd, struct ucred *uc)
{
	char data[8];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {data, sizeof data};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof u.buf};
	if (recvmsg(fd, &m, 0) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
		return -2;
	memcpy(uc, CMSG_DATA(c), sizeof *uc);
	return 0;
}

static int send_creds(int fd, struct ucred uc)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = {"c", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof uc);
	memcpy(CMSG_DATA(c), &uc, sizeof uc);
	return sendmsg(fd, &m, 0);
}

int main(void)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int on = 1;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));

	/* Without explicit credentials the kernel attaches the sender's. */
	pid_t c = fork();
	if (c == 0)
		_exit(send(sv[0], "x", 1, 0) == 1 ? 0 : 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
	struct ucred uc;
	CHECK(recv_creds(sv[1], &uc) == 0);
	CHECK(uc.pid == c && uc.uid == getuid() && uc.gid == getgid());

	/* Explicit: one's own is fine; another pid needs CAP_SYS_ADMIN (root has it). */
	struct ucred mine = {getpid(), getuid(), getgid()};
	CHECK(send_creds(sv[0], mine) == 1);
	CHECK(recv_creds(sv[1], &uc) == 0 && uc.pid == getpid());
	c = fork();
	if (c == 0) {
		setgid(65534);
		setuid(65534);
		struct ucred other = {1, 65534, 65534};
		int r1 = send_creds(sv[0], other) == -1 && errno == EPERM;
		struct ucred root = {getpid(), 0, 0};
		int r2 = send_creds(sv[0], root) == -1 && errno == EPERM;
		_exit(r1 && r2 ? 0 : 1);
	}
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* SO_PEERCRED of a listening/connected pair: the connecting process's. */
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "creds-%d", getpid());
	socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
	CHECK_OK(bind(srv, (struct sockaddr *)&a, alen));
	CHECK_OK(listen(srv, 1));
	c = fork();
	if (c == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, alen))
			_exit(1);
		char b;
		_exit(read(s, &b, 1) == 1 ? 0 : 2);
	}
	int conn = accept(srv, NULL, NULL);
	CHECK(conn >= 0);
	socklen_t l = sizeof uc;
	CHECK_OK(getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK(uc.pid == c && l == sizeof uc);
	CHECK(write(conn, "k", 1) == 1);
	CHECK(waitpid(c, &st, 0) == c && WEXITSTATUS(st) == 0);
	/* The name of a bound abstract socket, and of its accepted peer (unnamed). */
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	CHECK_OK(getsockname(srv, (struct sockaddr *)&got, &glen));
	CHECK(glen == alen && memcmp(got.sun_path, a.sun_path, alen - 2) == 0);
	glen = sizeof got;
	CHECK_OK(getsockname(conn, (struct sockaddr *)&got, &glen));
	CHECK(glen == alen);
	/* The peer has exited: its (unnamed) address is still reported. */
	glen = sizeof got;
	CHECK_OK(getpeername(conn, (struct sockaddr *)&got, &glen));
	CHECK(glen == sizeof(sa_family_t));

	/* SCM_RIGHTS: close-on-exec on request; too little room truncates (MSG_CTRUNC) and the
	 * descriptors that did not fit are closed. */
	int fds[3] = {0, 1, 2};
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct iovec iov = {"f", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	int s2[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s2));
	CHECK(sendmsg(s2[0], &m, 0) == 1);
	char d;
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} r;
	struct iovec riov = {&d, 1};
	struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = r.buf,
			    .msg_controllen = sizeof r.buf};
	CHECK(recvmsg(s2[1], &rm, MSG_CMSG_CLOEXEC) == 1);
	cm = CMSG_FIRSTHDR(&rm);
	CHECK(cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof fds));
	int got3[3];
	memcpy(got3, CMSG_DATA(cm), sizeof got3);
	for (int i = 0; i < 3; i++) {
		CHECK(fcntl(got3[i], F_GETFD) == FD_CLOEXEC);
		close(got3[i]);
	}
	CHECK(sendmsg(s2[0], &m, 0) == 1);
	rm.msg_controllen = CMSG_SPACE(sizeof(int));
	CHECK(recvmsg(s2[1], &rm, 0) == 1);
	CHECK(rm.msg_flags & MSG_CTRUNC);
	cm = CMSG_FIRSTHDR(&rm);
	/* CMSG_SPACE(sizeof(int)) has room for two. */
	CHECK(cm && cm->cmsg_len == CMSG_LEN(2 * sizeof(int)));
	/* A bad descriptor in SCM_RIGHTS is EBADF. */
	fds[1] = 999;
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), fds, sizeof fds);
	CHECK_ERR(sendmsg(s2[0], &m, 0), EBADF);
	DONE();
}

/* sendmmsg/recvmmsg on unix datagram and seqpacket sockets: several messages per call, each
 * with its length, MSG_WAITFORONE, and errors after the first message ending the batch. */
#define _GNU_SOURCE
#include "check.h"
#include <sys/socket.h>

int main(void)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	char *words[3] = {"one", "three", "fifteen"};
	struct iovec iov[3];
	struct mmsghdr m[3];
	memset(m, 0, sizeof m);
	for (int i = 0; i < 3; i++) {
		iov[i].iov_base = words[i];
		iov[i].iov_len = strlen(words[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(sv[0], m, 3, 0) == 3);
	CHECK(m[0].msg_len == 3 && m[1].msg_len == 5 && m[2].msg_len == 7);

	char bufs[4][16];
	struct iovec riov[4];
	struct mmsghdr r[4];
	memset(r, 0, sizeof r);
	for (int i = 0; i < 4; i++) {
		riov[i].iov_base = bufs[i];
		riov[i].iov_len = i == 2 ? 4 : 16; /* the third is truncated */
		r[i].msg_hdr.msg_iov = &riov[i];
		r[i].msg_hdr.msg_iovlen = 1;
	}
	/* Three queued; WAITFORONE returns them without waiting for a fourth. */
	CHECK(recvmmsg(sv[1], r, 4, MSG_WAITFORONE, NULL) == 3);
	CHECK(r[0].msg_len == 3 && memcmp(bufs[0], "one", 3) == 0);
	CHECK(r[1].msg_len == 5 && memcmp(bufs[1], "three", 5) == 0);
	CHECK(r[2].msg_len == 4 && (r[2].msg_hdr.msg_flags & MSG_TRUNC));
	/* Nothing queued and non-blocking: EAGAIN. */
	CHECK_ERR(recvmmsg(sv[1], r, 4, MSG_DONTWAIT, NULL), EAGAIN);
	/* A batch of 2 with 1 queued and MSG_DONTWAIT: 1. */
	CHECK(sendmmsg(sv[0], m, 1, 0) == 1);
	CHECK(recvmmsg(sv[1], r, 2, MSG_DONTWAIT, NULL) == 1);

	/* A bad second message: the first is sent and counted. */
	m[1].msg_hdr.msg_iov = (struct iovec *)1;
	CHECK(sendmmsg(sv[0], m, 3, 0) == 1);
	CHECK_ERR(sendmmsg(sv[0], (struct mmsghdr *)1, 1, 0), EFAULT);
	CHECK(recvmmsg(sv[1], r, 4, MSG_DONTWAIT, NULL) == 1);
	CHECK(sendmmsg(sv[0], m, 0, 0) == 0);

	/* Seqpacket keeps boundaries too. */
	int sp[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	m[1].msg_hdr.msg_iov = &iov[1];
	CHECK(sendmmsg(sp[0], m, 3, 0) == 3);
	struct timespec ts = {1, 0};
	CHECK(recvmmsg(sp[1], r, 3, 0, &ts) == 3);
	CHECK(r[1].msg_len == 5 && r[2].msg_len == 4);
	DONE();
}

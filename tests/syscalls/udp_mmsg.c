/* sendmmsg/recvmmsg on UDP: several datagrams to several addresses in one call, each with
 * its length in msg_len; recvmmsg fills the source addresses, stops at what is queued with
 * MSG_DONTWAIT, waits for one with MSG_WAITFORONE; vlen 0 returns 0; bad pointers EFAULT;
 * a timeout does not stop it short of datagrams already queued. */
#define _GNU_SOURCE
#include "check.h"
#include "inet.h"

int main(void)
{
	struct sockaddr_in ra, rb, sa;
	int r1 = udp_bound(&ra), r2 = udp_bound(&rb), s = udp_bound(&sa);
	CHECK(r1 >= 0 && r2 >= 0 && s >= 0);
	char *texts[4] = { "one", "two!", "three", "" };
	struct iovec iov[4];
	struct mmsghdr m[4];
	memset(m, 0, sizeof m);
	for (int i = 0; i < 4; i++) {
		iov[i].iov_base = texts[i];
		iov[i].iov_len = strlen(texts[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = i == 1 ? &rb : &ra;
		m[i].msg_hdr.msg_namelen = sizeof ra;
	}
	CHECK(sendmmsg(s, m, 4, 0) == 4);
	CHECK(m[0].msg_len == 3 && m[1].msg_len == 4 && m[2].msg_len == 5 && m[3].msg_len == 0);
	CHECK(sendmmsg(s, m, 0, 0) == 0);
	CHECK(readiness(r1, POLLIN, 2000) & POLLIN);
	usleep(20000);

	char buf[4][16];
	struct sockaddr_in from[4];
	struct iovec riov[4];
	struct mmsghdr rm[4];
	memset(rm, 0, sizeof rm);
	for (int i = 0; i < 4; i++) {
		riov[i].iov_base = buf[i];
		riov[i].iov_len = sizeof buf[i];
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_name = &from[i];
		rm[i].msg_hdr.msg_namelen = sizeof from[i];
	}
	/* r1 has three datagrams: "one", "three", "". */
	CHECK(recvmmsg(r1, rm, 4, MSG_DONTWAIT, NULL) == 3);
	CHECK(rm[0].msg_len == 3 && memcmp(buf[0], "one", 3) == 0);
	CHECK(rm[1].msg_len == 5 && memcmp(buf[1], "three", 5) == 0);
	CHECK(rm[2].msg_len == 0);
	CHECK(rm[0].msg_hdr.msg_namelen == sizeof sa && from[0].sin_port == sa.sin_port &&
	      from[0].sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK_ERR(recvmmsg(r1, rm, 4, MSG_DONTWAIT, NULL), EAGAIN);
	/* MSG_WAITFORONE: blocks for the first, then takes only what is there. */
	CHECK(recvmmsg(r2, rm, 4, MSG_WAITFORONE, NULL) == 1 && rm[0].msg_len == 4 && memcmp(buf[0], "two!", 4) == 0);
	CHECK(recvmmsg(r2, rm, 0, MSG_DONTWAIT, NULL) == 0);
	CHECK_ERR(recvmmsg(r2, (struct mmsghdr *)8, 1, MSG_DONTWAIT, NULL), EFAULT);
	CHECK_ERR(sendmmsg(s, (struct mmsghdr *)8, 1, 0), EFAULT);
	/* With a timeout (only looked at between datagrams, as Linux's). */
	struct timespec ts = { 1, 0 };
	CHECK(sendto(s, "x", 1, 0, (struct sockaddr *)&rb, sizeof rb) == 1);
	CHECK(sendto(s, "yz", 2, 0, (struct sockaddr *)&rb, sizeof rb) == 2);
	CHECK(readiness(r2, POLLIN, 2000) & POLLIN);
	usleep(20000);
	CHECK(recvmmsg(r2, rm, 2, 0, &ts) == 2 && rm[0].msg_len == 1 && rm[1].msg_len == 2);
	DONE();
}

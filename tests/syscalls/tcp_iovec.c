/* Scatter and gather on TCP: writev of several buffers arrives as one stream, readv fills
 * buffers in order, sendmsg/recvmsg with iovecs likewise (a name on a connected TCP socket
 * is ignored, msg_namelen comes back 0), zero-length iovecs are skipped, an iovec count over
 * IOV_MAX is EINVAL, a bad iovec pointer EFAULT. */
#include "check.h"
#include "inet.h"
#include <sys/uio.h>

int main(void)
{
	int c = -1, s = -1;
	CHECK(tcp_pair(&c, &s) == 0);
	struct iovec w[4] = { { "ab", 2 }, { "", 0 }, { "cde", 3 }, { "f", 1 } };
	CHECK(writev(c, w, 4) == 6);
	char x[2], y[3], z[8];
	struct iovec r[3] = { { x, 2 }, { y, 3 }, { z, 8 } };
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	usleep(20000);
	CHECK(readv(s, r, 3) == 6 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0 && z[0] == 'f');

	struct sockaddr_in bogus = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(0x01020304) };
	struct msghdr m = { .msg_name = &bogus, .msg_namelen = sizeof bogus, .msg_iov = w, .msg_iovlen = 4 };
	CHECK(sendmsg(c, &m, 0) == 6);
	struct sockaddr_in from;
	struct msghdr rm = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = r, .msg_iovlen = 3 };
	CHECK(readiness(s, POLLIN, 2000) & POLLIN);
	usleep(20000);
	CHECK(recvmsg(s, &rm, 0) == 6 && rm.msg_namelen == 0 && memcmp(y, "cde", 3) == 0);
	CHECK(rm.msg_flags == 0);

	struct iovec many[1100];
	for (int i = 0; i < 1100; i++)
		many[i] = (struct iovec){ "x", 1 };
	CHECK_ERR(writev(c, many, 1025), EINVAL);
	CHECK(writev(c, many, 1024) == 1024);
	struct iovec *volatile nowhere = (struct iovec *)8;
	CHECK_ERR(writev(c, nowhere, 1), EFAULT);
	struct iovec bad = { (void *)8, 1 };
	CHECK_ERR(writev(c, &bad, 1), EFAULT);
	DONE();
}

/* Queue ioctls on inet sockets: FIONREAD/SIOCINQ count unread bytes (TCP: all of them; UDP:
 * the next datagram), SIOCOUTQ counts unsent/unacknowledged bytes (0 once the peer has them),
 * FIONREAD on a listener is EINVAL, FIONBIO toggles O_NONBLOCK, SIOCATMARK is 0 without
 * urgent data; an unknown request is ENOTTY. */
#include "check.h"
#include "inet.h"
#include <linux/sockios.h>
#include <sys/ioctl.h>

int main(void)
{
	int c = -1, s = -1, q;
	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(ioctl(s, FIONREAD, &q) == 0 && q == 0);
	CHECK(write(c, "hello", 5) == 5 && write(c, "world!", 6) == 6);
	for (int i = 0; i < 100; i++) {
		if (ioctl(s, SIOCINQ, &q) == 0 && q == 11)
			break;
		usleep(10000);
	}
	CHECK(q == 11);
	for (int i = 0; i < 100; i++) {
		if (ioctl(c, SIOCOUTQ, &q) == 0 && q == 0)
			break;
		usleep(10000);
	}
	CHECK(q == 0);
	char b[16];
	CHECK(read(s, b, 3) == 3 && ioctl(s, FIONREAD, &q) == 0 && q == 8);
	CHECK(ioctl(s, SIOCATMARK, &q) == 0 && q == 0);
	int on = 1;
	CHECK(ioctl(s, FIONBIO, &on) == 0 && (fcntl(s, F_GETFL) & O_NONBLOCK));
	CHECK(read(s, b, sizeof b) == 8);
	CHECK_ERR(read(s, b, sizeof b), EAGAIN);
	on = 0;
	CHECK(ioctl(s, FIONBIO, &on) == 0 && !(fcntl(s, F_GETFL) & O_NONBLOCK));
	CHECK_ERR(ioctl(s, FIONREAD, (int *)8), EFAULT);
	CHECK_ERR(ioctl(s, 0x5401 + 0x100, &q), ENOTTY);

	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK_ERR(ioctl(l, FIONREAD, &q), EINVAL);

	/* UDP: the size of the next datagram (0 when none), SIOCOUTQ 0 once sent. */
	struct sockaddr_in u_a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof u_a;
	int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(u, (struct sockaddr *)&u_a, sizeof u_a) == 0 && getsockname(u, (struct sockaddr *)&u_a, &n) == 0);
	CHECK(ioctl(u, FIONREAD, &q) == 0 && q == 0);
	CHECK(sendto(v, "1234567", 7, 0, (struct sockaddr *)&u_a, sizeof u_a) == 7);
	CHECK(sendto(v, "12", 2, 0, (struct sockaddr *)&u_a, sizeof u_a) == 2);
	CHECK(readiness(u, POLLIN, 2000) & POLLIN);
	usleep(20000);
	CHECK(ioctl(u, FIONREAD, &q) == 0 && q == 7);
	CHECK(recv(u, b, sizeof b, 0) == 7);
	CHECK(ioctl(u, SIOCINQ, &q) == 0 && q == 2);
	CHECK(ioctl(v, SIOCOUTQ, &q) == 0 && q == 0);
	DONE();
}

/* Generic socket options on inet sockets: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN,
 * SO_ERROR read back; a short optlen truncates the value; unknown levels and names are
 * ENOPROTOOPT; EBADF, ENOTSOCK and EFAULT on bad arguments; a short setsockopt is EINVAL. */
#include "check.h"
#include "inet.h"

static int get(int fd, int level, int name)
{
	int v = -12345;
	socklen_t n = sizeof v;
	if (getsockopt(fd, level, name, &v, &n) || n != sizeof v)
		return -12345;
	return v;
}

int main(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	int t6 = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(t >= 0 && u >= 0 && t6 >= 0 && u6 >= 0);
	CHECK(get(t, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
	CHECK(get(u, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
	CHECK(get(t, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	CHECK(get(u6, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
	CHECK(get(t, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
	CHECK(get(t6, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
	CHECK(get(u, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
	CHECK(get(t, SOL_SOCKET, SO_ERROR) == 0);
	CHECK(get(t, SOL_SOCKET, SO_ACCEPTCONN) == 0);
	CHECK(get(u, SOL_SOCKET, SO_ACCEPTCONN) == 0);
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK(l >= 0 && get(l, SOL_SOCKET, SO_ACCEPTCONN) == 1);

	/* A short buffer gets the first bytes and the length it held. */
	int v = -1;
	socklen_t n = 2;
	CHECK(getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &n) == 0 && n == 2);
	CHECK((v & 0xffff) == SOCK_STREAM && (v >> 16) == -1);
	/* A longer one is cut down to the option's size. */
	char big[64];
	n = sizeof big;
	CHECK(getsockopt(t, SOL_SOCKET, SO_TYPE, big, &n) == 0 && n == sizeof(int));
	n = -1;
	CHECK_ERR(getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &n), EINVAL);

	/* Unknown names and levels. */
	n = sizeof v;
	CHECK_ERR(getsockopt(t, SOL_SOCKET, 9999, &v, &n), ENOPROTOOPT);
	CHECK_ERR(getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &n), EOPNOTSUPP);
	CHECK_ERR(getsockopt(t, IPPROTO_IP, 9999, &v, &n), ENOPROTOOPT);
	CHECK_ERR(setsockopt(t, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
	CHECK_ERR(setsockopt(t, IPPROTO_IP, 9999, &v, sizeof v), ENOPROTOOPT);
	/* IPv6 options on an IPv4 socket. */
	CHECK_ERR(getsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &v, &n), EOPNOTSUPP);

	/* Bad arguments. */
	CHECK_ERR(getsockopt(-1, SOL_SOCKET, SO_TYPE, &v, &n), EBADF);
	CHECK_ERR(getsockopt(9999, SOL_SOCKET, SO_TYPE, &v, &n), EBADF);
	int f = open("/dev/null", O_RDONLY);
	CHECK_ERR(getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &n), ENOTSOCK);
	CHECK_ERR(setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), ENOTSOCK);
	CHECK_ERR(getsockopt(t, SOL_SOCKET, SO_TYPE, (void *)8, &n), EFAULT);
	CHECK_ERR(getsockopt(t, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT);
	CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof v), EFAULT);
	short s = 1;
	CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &s, sizeof s), EINVAL);
	CHECK_ERR(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &s, sizeof s), EINVAL);
	/* Read-only options. */
	v = SOCK_DGRAM;
	CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
	CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_ERROR, &v, sizeof v), ENOPROTOOPT);
	DONE();
}

/* socket() for the inet families: errno for unknown families, types, protocols and flags;
 * SOCK_NONBLOCK and SOCK_CLOEXEC set the file flags; each socket is a new file with S_IFSOCK. */
#include "check.h"
#include "inet.h"

int main(void)
{
	CHECK_ERR(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_INET, 99, 0), EINVAL);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM | 0x100000, 0), EINVAL);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, 999), EINVAL);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, -1), EINVAL);

	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	CHECK(s >= 0);
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(s, F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(s, F_GETFL) & O_ACCMODE) == O_RDWR);
	int u = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
	CHECK(u >= 0 && !(fcntl(u, F_GETFL) & O_NONBLOCK) && fcntl(u, F_GETFD) == 0);
	struct stat st;
	CHECK(fstat(s, &st) == 0 && S_ISSOCK(st.st_mode));
	struct stat st2;
	CHECK(fstat(u, &st2) == 0 && S_ISSOCK(st2.st_mode) && st.st_ino != st2.st_ino);
	/* O_NONBLOCK through fcntl makes accept and recv return at once. */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	int l = tcp_listener(&a, 1);
	CHECK(fcntl(l, F_SETFL, O_NONBLOCK) == 0);
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	CHECK(connect(t, (struct sockaddr *)&a, sizeof a) == 0);
	int c = -1;
	for (int i = 0; i < 100 && c < 0; i++)
		if ((c = accept(l, NULL, NULL)) < 0)
			usleep(10000);
	CHECK(c >= 0);
	CHECK(fcntl(c, F_SETFL, O_NONBLOCK) == 0);
	char b;
	CHECK_ERR(read(c, &b, 1), EAGAIN);
	/* /proc/self/fd names it socket:[inode]. */
	char path[64], link[64] = { 0 }, want[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", u);
	snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st2.st_ino);
	CHECK(readlink(path, link, sizeof link - 1) > 0 && strcmp(link, want) == 0);
	DONE();
}

/* /proc/net: a symlink to self/net; tcp lists a listener (state 0A) and both ends of a
 * connection (01) with their addresses in hex and the socket's inode; udp a bound socket
 * (07) and a connected one (01); tcp6 the IPv6 listener; dev has lo, whose counters grow with
 * loopback traffic; if_inet6 has ::1 on lo; route has its header. */
#include "check.h"
#include "inet.h"
#include <stdio.h>
#include <sys/stat.h>

static char text[1 << 16];

static const char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	return text;
}

/* The line of /proc/net/<file> whose local address is <local>, or NULL. */
static const char *line_for(const char *file, const char *local, char *out, size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/net/%s", file);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	const char *r = NULL;
	while (fgets(out, n, f)) {
		char sl[16], loc[64];
		if (sscanf(out, "%15s %63s", sl, loc) == 2 && strcmp(loc, local) == 0) {
			r = out;
			break;
		}
	}
	fclose(f);
	return r;
}

static unsigned long long lo_rx_packets(void)
{
	const char *t = slurp("/proc/net/dev");
	const char *p = strstr(t, "lo:");
	unsigned long long bytes = 0, packets = 0;
	if (!p || sscanf(p + 3, "%llu %llu", &bytes, &packets) != 2)
		return 0;
	return packets;
}

int main(void)
{
	char target[64];
	ssize_t n = readlink("/proc/net", target, sizeof target - 1);
	CHECK(n == 8 && memcmp(target, "self/net", 8) == 0);
	CHECK(strncmp(slurp("/proc/net/tcp"), "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 96) == 0);

	struct sockaddr_in a;
	int l = tcp_listener(&a, 4);
	int c = tcp_connect(&a);
	int s = accept(l, NULL, NULL);
	CHECK(c >= 0 && s >= 0);
	char want[64], buf[512];
	snprintf(want, sizeof want, "0100007F:%04X", ntohs(a.sin_port));
	/* The listener, and the accepted socket, both have the listening port. */
	int listeners = 0, established = 0;
	FILE *f = fopen("/proc/net/tcp", "r");
	CHECK(f != NULL);
	struct stat st;
	CHECK(fstat(l, &st) == 0);
	while (f && fgets(buf, sizeof buf, f)) {
		char sl[16], loc[32], rem[32];
		unsigned state;
		unsigned long inode;
		if (sscanf(buf, "%15s %31s %31s %x %*s %*s %*s %*s %*s %lu", sl, loc, rem, &state, &inode) != 5)
			continue;
		if (strcmp(loc, want) == 0 && state == 0x0A) {
			listeners++;
			CHECK(strcmp(rem, "00000000:0000") == 0 && inode == st.st_ino);
		}
		if (strcmp(loc, want) == 0 && state == 0x01)
			established++;
	}
	if (f)
		fclose(f);
	CHECK(listeners == 1 && established == 1);
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	CHECK(getsockname(c, (struct sockaddr *)&me, &len) == 0);
	snprintf(want, sizeof want, "0100007F:%04X", ntohs(me.sin_port));
	CHECK(line_for("tcp", want, buf, sizeof buf) != NULL);

	int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	len = sizeof ua;
	CHECK(bind(u, (struct sockaddr *)&ua, sizeof ua) == 0 && getsockname(u, (struct sockaddr *)&ua, &len) == 0);
	CHECK(connect(v, (struct sockaddr *)&ua, sizeof ua) == 0);
	snprintf(want, sizeof want, "0100007F:%04X", ntohs(ua.sin_port));
	unsigned state = 0;
	CHECK(line_for("udp", want, buf, sizeof buf) && sscanf(buf, "%*s %*s %*s %x", &state) == 1 && state == 0x07);
	len = sizeof me;
	CHECK(getsockname(v, (struct sockaddr *)&me, &len) == 0);
	snprintf(want, sizeof want, "0100007F:%04X", ntohs(me.sin_port));
	CHECK(line_for("udp", want, buf, sizeof buf) && sscanf(buf, "%*s %*s %*s %x", &state) == 1 && state == 0x01);

	int l6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	len = sizeof a6;
	CHECK(bind(l6, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(l6, 1) == 0 && getsockname(l6, (struct sockaddr *)&a6, &len) == 0);
	snprintf(want, sizeof want, "00000000000000000000000001000000:%04X", ntohs(a6.sin6_port));
	CHECK(line_for("tcp6", want, buf, sizeof buf) != NULL);

	unsigned long long before = lo_rx_packets();
	CHECK(write(c, "ping", 4) == 4 && read(s, buf, 4) == 4);
	usleep(10000);
	CHECK(lo_rx_packets() > before);
	CHECK(strstr(slurp("/proc/net/if_inet6"), "00000000000000000000000000000001 01 80 10 80       lo\n") != NULL);
	CHECK(strncmp(slurp("/proc/net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 72) == 0);
	DONE();
}

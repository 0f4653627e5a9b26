/* ICMP "ping" sockets are open only to groups in net.ipv4.ping_group_range; with the
 * default range (1 0: nobody) socket() is EACCES for IPv4 and IPv6 alike; raw sockets need
 * CAP_NET_RAW, so a process without it gets EPERM. */
#include "check.h"
#include "inet.h"
#include <stdio.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(void)
{
	long lo = -1, hi = -1;
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	CHECK(f && fscanf(f, "%ld %ld", &lo, &hi) == 2);
	if (f)
		fclose(f);
	gid_t g = getegid();
	if (lo <= (long)g && (long)g <= hi) {
		printf("skip: this group may open ping sockets here\n");
		return 0;
	}
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), EACCES);
	CHECK_ERR(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), EACCES);
	/* Without CAP_NET_RAW: no raw socket. */
	pid_t p = fork();
	if (p == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2] = { { 0 } };
		if (syscall(SYS_capset, &h, d))
			_exit(2);
		int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		_exit(r < 0 && errno == EPERM ? 0 : 1);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	DONE();
}

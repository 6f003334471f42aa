/* SPDX-License-Identifier: MIT */
/* The DHCPv6 client's socket (see dhcp6sock.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netctl/dhcp6sock.h"

int dhcp6sock_open(const char *name, unsigned ifindex, char *err, size_t errlen)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(546) };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, hops = 1, e;
	unsigned idx = ifindex;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "DHCPv6 socket: %s", strerror(e));
		return -e;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		snprintf(err, errlen, "DHCPv6 socket on %s: %s", name, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int dhcp6sock_send(int fd, unsigned ifindex, const uint8_t *msg, size_t n, char *err, size_t errlen)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(547), .sin6_scope_id = ifindex };

	inet_pton(AF_INET6, "ff02::1:2", &to.sin6_addr);
	if (sendto(fd, msg, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		int e = errno;

		snprintf(err, errlen, "DHCPv6: send: %s", strerror(e));
		return -e;
	}
	return 0;
}

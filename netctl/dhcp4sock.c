/* SPDX-License-Identifier: MIT */
/* The DHCPv4 client's packet socket (see dhcp4sock.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netctl/dhcp4.h"
#include "netctl/dhcp4sock.h"

/* Keeps unfragmented UDP to port 68 (the socket hands us IPv4 packets from their header on). */
static struct sock_filter udp68[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 3, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
};

static int sys_fail(char *err, size_t errlen, const char *what)
{
	int e = errno;

	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

int dhcp4sock_open(unsigned ifindex, char *err, size_t errlen)
{
	struct sock_fprog prog = { sizeof(udp68) / sizeof(udp68[0]), udp68 };
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = (int)ifindex };
	int fd, one = 1, r;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		return sys_fail(err, errlen, "DHCPv4 packet socket");
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = sys_fail(err, errlen, "DHCPv4 packet socket: filter and bind");
		close(fd);
		return r;
	}
	return fd;
}

int dhcp4sock_send(int fd, unsigned ifindex, const uint8_t mac[6], const uint8_t src[4], const uint8_t dst[4],
		   const uint8_t *msg, size_t n, char *err, size_t errlen)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = (int)ifindex,
				  .sll_halen = 6 };
	uint8_t pkt[DHCP4_PACKET_MAX];
	size_t len = dhcp4_frame(pkt, sizeof(pkt), src, dst, msg, n);

	if (!len) {
		snprintf(err, errlen, "DHCPv4: a message of %zu bytes does not fit a packet", n);
		return -EMSGSIZE;
	}
	memcpy(sa.sll_addr, mac, 6);
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sys_fail(err, errlen, "DHCPv4: send");
	return 0;
}

ssize_t dhcp4sock_recv(int fd, uint8_t *buf, size_t cap, bool *csum_ready, uint8_t mac[6])
{
	struct sockaddr_ll sa;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n;

	do
		n = recvmsg(fd, &m, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*csum_ready = true;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;

			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
				*csum_ready = false;
		}
	if (mac)
		memcpy(mac, sa.sll_addr, 6);
	return (m.msg_flags & MSG_TRUNC) ? -EMSGSIZE : n;
}

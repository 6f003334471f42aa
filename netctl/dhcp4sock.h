/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv4 client's socket: a packet socket on one link (it works before the link has an
 * address), filtered in the kernel to UDP for port 68, sending IPv4/UDP frames built by
 * dhcp4_frame to a MAC address of the caller's choosing.
 */
#ifndef BASALT_NETCTL_DHCP4SOCK_H
#define BASALT_NETCTL_DHCP4SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A nonblocking packet socket on ifindex; the fd, or -errno with why in err. */
int dhcp4sock_open(unsigned ifindex, char *err, size_t errlen);
/* Frames msg from src to dst and sends it to mac (ff:ff:ff:ff:ff:ff to broadcast); 0 or -errno. */
int dhcp4sock_send(int fd, unsigned ifindex, const uint8_t mac[6], const uint8_t src[4], const uint8_t dst[4],
		   const uint8_t *msg, size_t n, char *err, size_t errlen);
/*
 * One IPv4 packet into buf: its length, -EAGAIN when none is waiting, or -errno. *csum_ready
 * is false for a packet whose UDP checksum a local sender left to offload (do not check
 * it); mac, when not NULL, gets the sender's address.
 */
ssize_t dhcp4sock_recv(int fd, uint8_t *buf, size_t cap, bool *csum_ready, uint8_t mac[6]);

#endif

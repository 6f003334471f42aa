/* SPDX-License-Identifier: MIT */
/*
 * The DHCPv6 client's socket: UDP port 546 on one link (SO_BINDTODEVICE, so each link has
 * its own), sending to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) port 547 from the
 * link's link-local address.
 */
#ifndef BASALT_NETCTL_DHCP6SOCK_H
#define BASALT_NETCTL_DHCP6SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A nonblocking socket for link name (index ifindex); the fd, or -errno with why in err. */
int dhcp6sock_open(const char *name, unsigned ifindex, char *err, size_t errlen);
/* Sends msg to ff02::1:2 on the link; 0 or -errno (EADDRNOTAVAIL until the link-local address passes DAD). */
int dhcp6sock_send(int fd, unsigned ifindex, const uint8_t *msg, size_t n, char *err, size_t errlen);

#endif

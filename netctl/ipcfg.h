/* SPDX-License-Identifier: MIT */
/*
 * The kernel's `ip=` boot parameter (Documentation/admin-guide/nfs/nfsroot.rst), parsed:
 *   ip=<client>:<server>:<gateway>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>:<ntp0>
 * or one word (off, none, on, any, dhcp, bootp, rarp, both, dhcp6). IPv6 addresses are
 * written in brackets ([fd00::1]); a client address may carry its prefix (10.0.0.2/24) in
 * place of a netmask. Mechanism only: what the node does with it is machined's business.
 */
#ifndef BASALT_NETCTL_IPCFG_H
#define BASALT_NETCTL_IPCFG_H

#include <linux/if.h>
#include <stdbool.h>
#include <stddef.h>

struct ipcfg {
	int family;                     /* AF_INET, AF_INET6; 0 when no client address */
	unsigned char client[16], server[16], gateway[16], dns[2][16], ntp[16];
	bool has_server, has_gateway, has_dns[2], has_ntp;
	unsigned prefixlen;             /* from the netmask or the /prefix */
	char hostname[64];
	char device[IFNAMSIZ];          /* "" for any */
	char autoconf[8];               /* off, none, on, any, dhcp, bootp, rarp, both, dhcp6 ("" is off with a client address, else any) */
};

/* 0, or -1 with err naming the field at fault and why. */
int ipcfg_parse(const char *s, struct ipcfg *out, char *err, size_t errlen);

#endif

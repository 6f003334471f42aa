/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink, the mechanism: dump links and addresses, walk a datagram's messages, parse
 * RTM_NEWLINK and RTM_NEWADDR into plain structs, and a socket on the link and address
 * multicast groups. No policy: machined's controllers decide what the results mean.
 */
#ifndef BASALT_NETCTL_RTNL_H
#define BASALT_NETCTL_RTNL_H

#include <linux/if.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>

#include "netctl/nlreq.h"

#define RTNL_KIND_MAX 32
#define RTNL_HWADDR_MAX 96   /* 32 bytes as "xx:" */
#define RTNL_IP_MAX 46       /* INET6_ADDRSTRLEN */
#define RTNL_WHAT_MAX 128    /* a request described: "add address .../128 on link N" */

/* A bond's options as the kernel reports them; -1 (or 0 for the unsigned) where it gave none. */
#define RTNL_BOND_ARP_MAX 16
struct rtnl_bond {
	bool present;                  /* the link is a bond whose IFLA_INFO_DATA was read */
	int mode, xmit_hash, lacp_rate, ad_select, use_carrier;
	unsigned miimon, updelay, downdelay, min_links, arp_interval;
	unsigned primary;              /* the primary member's index, 0 for none */
	unsigned narp;
	unsigned char arp[RTNL_BOND_ARP_MAX][4];
};

struct rtnl_link {
	unsigned index, type, flags, mtu, master, operstate;
	char name[IFNAMSIZ];
	char kind[RTNL_KIND_MAX];      /* IFLA_INFO_KIND of a virtual link, "" for none */
	char hwaddr[RTNL_HWADDR_MAX];  /* "aa:bb:..." */
	char permaddr[RTNL_HWADDR_MAX];  /* IFLA_PERM_ADDRESS: the hardware's own, "" when the kernel gives none */
	char parent[64];               /* IFLA_PARENT_DEV_NAME: the device behind it ("0000:00:03.0"), "" for a virtual link */
	char bus[32];                  /* IFLA_PARENT_DEV_BUS_NAME: "pci", "virtio", "usb"... */
	struct rtnl_bond bond;
};

struct rtnl_addr {
	unsigned index, prefixlen, scope;
	int family;                    /* AF_INET, AF_INET6 */
	char ip[RTNL_IP_MAX];          /* the interface's own address (IFA_LOCAL, else IFA_ADDRESS) */
};

/* Parses an RTM_NEWLINK message; 0, or -1 when h is not one or names no link. */
int rtnl_parse_link(const struct nlmsghdr *h, struct rtnl_link *out);
/* Parses an RTM_NEWADDR message of IPv4 or IPv6; 0, or -1 when h is not one. */
int rtnl_parse_addr(const struct nlmsghdr *h, struct rtnl_addr *out);

/* Called per message; a negative return stops the walk with it. */
typedef int rtnl_msg_fn(void *arg, const struct nlmsghdr *h);
/*
 * Walks the messages of one datagram (each header checked against what is left): 1 at
 * NLMSG_DONE, the error of an NLMSG_ERROR (-EIO if it carries none), fn's negative return,
 * else 0.
 */
int rtnl_walk(const void *buf, size_t len, rtnl_msg_fn *fn, void *arg);
/* Dumps RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE, fn per message; answers only from the kernel count. 0 or -errno. */
int rtnl_dump(int type, rtnl_msg_fn *fn, void *arg);
/* A nonblocking socket on the link, IPv4/IPv6 address and route groups, or -errno. */
int rtnl_events_open(void);

/* --- changes: each is one request, acknowledged; 0, or -errno with the kernel's reason
 * (its extended ack text where it gives one) in err --- */

/* A link's index by name (RTM_GETLINK); -ENODEV when there is none. */
int rtnl_link_index(const char *name, char *err, size_t errlen);
/* Sets a link up or down (up: 1 or 0, -1 leaves it) and its MTU (0 leaves it). */
int rtnl_link_set(unsigned index, int up, unsigned mtu, char *err, size_t errlen);
/* Sets the link's hardware address (6 bytes, the link down or the driver willing). */
int rtnl_link_set_mac(unsigned index, const unsigned char mac[6], char *err, size_t errlen);
/* Adds (or with add false deletes) an address: family AF_INET or AF_INET6, addr its 4 or 16 bytes. */
int rtnl_addr_change(bool add, int family, unsigned index, const void *addr, unsigned prefixlen, char *err,
		     size_t errlen);
/* The same as a request for a batch (nlreq.h): 0 with what describing it, or -EINVAL with what saying why. */
int rtnl_addr_req(struct nlreq *q, bool add, int family, unsigned index, const void *addr, unsigned prefixlen,
		  char *what, size_t whatlen);

struct rtnl_route {
	int family;                /* AF_INET, AF_INET6 */
	unsigned char dst[16], gw[16], src[16];
	unsigned dst_len;          /* 0: the default route */
	bool has_gw, has_src;
	unsigned oif;              /* 0: none */
	unsigned table;            /* 0: main */
	unsigned metric, mtu;      /* 0: none */
	unsigned char scope;       /* RT_SCOPE_UNIVERSE, _LINK, ... */
	unsigned char protocol;    /* parsed only: RTPROT_KERNEL, _STATIC, _DHCP... */
	unsigned char type;        /* parsed only: RTN_UNICAST, _LOCAL, ... */
	bool onlink;               /* RTNH_F_ONLINK: the gateway is on the link though no prefix says so */
};
int rtnl_route_change(bool add, const struct rtnl_route *r, char *err, size_t errlen);
int rtnl_route_req(struct nlreq *q, bool add, const struct rtnl_route *r, char *what, size_t whatlen);
/* Parses an RTM_NEWROUTE message of IPv4 or IPv6; 0, or -1 when h is not one. */
int rtnl_parse_route(const struct nlmsghdr *h, struct rtnl_route *out);

const char *rtnl_arphrd_name(unsigned type, char *buf, size_t len);
const char *rtnl_operstate_name(unsigned state);
const char *rtnl_scope_name(unsigned scope);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Links netctl creates, one file per kind behind an ops table (link_bond.c, link_bridge.c,
 * link_vlan.c, link_dummy.c, link_veth.c, link_wireguard.c): what a kind takes, in one
 * struct, and the rtnetlink requests that create a link, delete it, and put a member
 * into a bond or bridge. Option names are the kernel's and iproute2's ("802.3ad",
 * "layer3+4"), checked here so an error can name the bad one.
 */
#ifndef BASALT_NETCTL_LINK_H
#define BASALT_NETCTL_LINK_H

#include <linux/if.h>
#include <stdbool.h>
#include <stddef.h>

struct nlreq;

struct link_want {
	char name[IFNAMSIZ];
	char kind[16];              /* bond, bridge, vlan, dummy, veth, wireguard */
	unsigned mtu;               /* 0: the kernel's default */
	/* vlan */
	unsigned parent;            /* the parent link's index (IFLA_LINK), 0 for none */
	unsigned vlan_id;           /* 1-4094 */
	/* bond: names as iproute2 writes them, "" for the kernel's default */
	char bond_mode[16], xmit_hash_policy[16], lacp_rate[8], ad_select[16];
	unsigned miimon, updelay, downdelay, min_links, arp_interval;
	unsigned primary;           /* the primary member's index, 0 for none */
	unsigned use_carrier;       /* 0: the kernel's default, 1 off, 2 on */
	unsigned narp;
	unsigned char arp[16][4];   /* ARP monitoring's targets, IPv4 */
	/* bridge */
	int stp;                    /* -1: the kernel's default, else 0 or 1 */
	/* veth */
	char peer[IFNAMSIZ];
};

struct link_ops {
	const char *kind;
	/* Checks w and adds IFLA_INFO_DATA (and anything else the kind needs) to q; 0 or -errno with err. */
	int (*fill)(struct nlreq *q, const struct link_want *w, char *err, size_t errlen);
};

extern const struct link_ops link_bond, link_bridge, link_vlan, link_dummy, link_veth, link_wireguard;
/* The kind's ops, or NULL for a kind netctl does not create. */
const struct link_ops *link_ops_find(const char *kind);

/* Creates w (it must not exist); 0, or -errno with the kernel's reason in err. */
int link_create(const struct link_want *w, char *err, size_t errlen);
/* Sets w's options on the existing link of its name (of its kind); 0, or -errno with err. */
int link_change(const struct link_want *w, char *err, size_t errlen);
/* Deletes the link. */
int link_delete(unsigned index, char *err, size_t errlen);
/* Makes index a member of master (0: of none). A bond takes only members that are down. */
int link_set_master(unsigned index, unsigned master, char *err, size_t errlen);

/* bond mode / xmit_hash_policy / lacp_rate names to the kernel's numbers; -1 for an unknown name. */
int link_bond_mode(const char *name);
int link_bond_xmit_hash(const char *name);
int link_bond_lacp_rate(const char *name);
int link_bond_ad_select(const char *name);
/* And back: the name of the kernel's number, "" for one it has no name for here. */
const char *link_bond_mode_name(int v);
const char *link_bond_xmit_hash_name(int v);
const char *link_bond_lacp_rate_name(int v);
const char *link_bond_ad_select_name(int v);

#endif

/* SPDX-License-Identifier: MIT */
#include "netctl/nlreq.h"
#include "netctl/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF 32768

int rtnl_walk(const void *buf, size_t len, rtnl_msg_fn *fn, void *arg)
{
	int rem = len > (size_t)NL_BUF * 64 ? NL_BUF * 64 : (int)len, r;

	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? e->error : -EIO;
		}
		if ((r = fn(arg, h)) < 0)
			return r;
	}
	return 0;
}

int rtnl_dump(int type, rtnl_msg_fn *fn, void *arg)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = { { sizeof(req), (uint16_t)type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };
	struct timeval tv = { 2, 0 };
	char *buf = malloc(NL_BUF);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), r = 0;

	if (!buf || fd < 0) {
		r = buf ? -errno : -ENOMEM;
		goto out;
	}
	/* The kernel answers a dump at once; the timeout only guards against a lost reply. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &req, sizeof(req), 0) < 0) {
		r = -errno;
		goto out;
	}
	while (r == 0) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(fd, buf, NL_BUF, 0, (struct sockaddr *)&from, &fl);

		if (got < 0) {
			r = -errno;
			break;
		}
		/* Only the kernel answers: another process may send to this socket too. */
		if (fl < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		r = rtnl_walk(buf, (size_t)got, fn, arg);
	}
	if (r == 1)
		r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

int rtnl_events_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
						RTMGRP_IPV6_ROUTE };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE), e;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The attribute's payload if it is at least min bytes long. */
static const void *attr(const struct rtattr *a, size_t min)
{
	return RTA_PAYLOAD(a) >= min ? RTA_DATA(a) : NULL;
}

/* A NUL-terminated string attribute copied into out, or "" when it is not one that fits. */
static void attr_str(const struct rtattr *a, char *out, size_t len)
{
	size_t n = RTA_PAYLOAD(a);
	const char *s = RTA_DATA(a);
	const char *nul = n ? memchr(s, '\0', n) : NULL;

	out[0] = '\0';
	if (!nul || (size_t)(nul - s) >= len)
		return;
	memcpy(out, s, (size_t)(nul - s) + 1);
}

static void hex_addr(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%02x", i ? ":" : "", p[i]);
}

static unsigned u32_of(const struct rtattr *a)
{
	const void *p = attr(a, 4);
	unsigned v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static int u8_of(const struct rtattr *a)
{
	const unsigned char *p = attr(a, 1);

	return p ? *p : -1;
}

/* IFLA_INFO_DATA of a bond: what rtnl_bond holds of it. */
static void parse_bond(const struct rtattr *data, struct rtnl_bond *b)
{
	int len = (int)RTA_PAYLOAD(data);

	memset(b, 0, sizeof(*b));
	b->present = true;
	b->mode = b->xmit_hash = b->lacp_rate = b->ad_select = b->use_carrier = -1;
	for (const struct rtattr *a = RTA_DATA(data); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_BOND_MODE:
			b->mode = u8_of(a);
			break;
		case IFLA_BOND_MIIMON:
			b->miimon = u32_of(a);
			break;
		case IFLA_BOND_UPDELAY:
			b->updelay = u32_of(a);
			break;
		case IFLA_BOND_DOWNDELAY:
			b->downdelay = u32_of(a);
			break;
		case IFLA_BOND_MIN_LINKS:
			b->min_links = u32_of(a);
			break;
		case IFLA_BOND_XMIT_HASH_POLICY:
			b->xmit_hash = u8_of(a);
			break;
		case IFLA_BOND_AD_LACP_RATE:
			b->lacp_rate = u8_of(a);
			break;
		case IFLA_BOND_AD_SELECT:
			b->ad_select = u8_of(a);
			break;
		case IFLA_BOND_USE_CARRIER:
			b->use_carrier = u8_of(a);
			break;
		case IFLA_BOND_ARP_INTERVAL:
			b->arp_interval = u32_of(a);
			break;
		case IFLA_BOND_PRIMARY:
			b->primary = u32_of(a);
			break;
		case IFLA_BOND_ARP_IP_TARGET: {
			int tlen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *t = RTA_DATA(a); RTA_OK(t, tlen) && b->narp < RTNL_BOND_ARP_MAX;
			     t = RTA_NEXT(t, tlen))
				if (attr(t, 4))
					memcpy(b->arp[b->narp++], RTA_DATA(t), 4);
			break;
		}
		}
	}
}

int rtnl_parse_link(const struct nlmsghdr *h, struct rtnl_link *out)
{
	const struct rtattr *data = NULL;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	memset(out, 0, sizeof(*out));
	if (h->nlmsg_type != RTM_NEWLINK || len < 0)
		return -1;
	out->index = (unsigned)ifi->ifi_index;
	out->type = ifi->ifi_type;
	out->flags = ifi->ifi_flags;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *p;

		switch (a->rta_type) {
		case IFLA_IFNAME:
			attr_str(a, out->name, sizeof(out->name));
			break;
		case IFLA_MTU:
			if ((p = attr(a, 4)))
				memcpy(&out->mtu, p, 4);
			break;
		case IFLA_MASTER:
			if ((p = attr(a, 4)))
				memcpy(&out->master, p, 4);
			break;
		case IFLA_OPERSTATE:
			if ((p = attr(a, 1)))
				out->operstate = *(const uint8_t *)p;
			break;
		case IFLA_PARENT_DEV_NAME:
			attr_str(a, out->parent, sizeof(out->parent));
			break;
		case IFLA_PARENT_DEV_BUS_NAME:
			attr_str(a, out->bus, sizeof(out->bus));
			break;
		case IFLA_ADDRESS:
			hex_addr(RTA_DATA(a), RTA_PAYLOAD(a), out->hwaddr, sizeof(out->hwaddr));
			break;
		case IFLA_PERM_ADDRESS:
			hex_addr(RTA_DATA(a), RTA_PAYLOAD(a), out->permaddr, sizeof(out->permaddr));
			break;
		case IFLA_LINKINFO: {
			int ilen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					attr_str(i, out->kind, sizeof(out->kind));
				else if (i->rta_type == IFLA_INFO_DATA)
					data = i;
			break;
		}
		}
	}
	if (data && strcmp(out->kind, "bond") == 0)
		parse_bond(data, &out->bond);
	return out->name[0] ? 0 : -1;
}

int rtnl_parse_addr(const struct nlmsghdr *h, struct rtnl_addr *out)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const void *local = NULL, *address = NULL;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (h->nlmsg_type != RTM_NEWADDR || len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return -1;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL)
			local = attr(a, alen);
		else if (a->rta_type == IFA_ADDRESS)
			address = attr(a, alen);
	}
	/* IPv4 names the interface's own address IFA_LOCAL (IFA_ADDRESS is the peer's on a
	 * point-to-point link); IPv6 gives IFA_ADDRESS only. */
	if (!(local = local ? local : address) || !inet_ntop(ifa->ifa_family, local, out->ip, sizeof(out->ip)))
		return -1;
	out->family = ifa->ifa_family;
	out->index = ifa->ifa_index;
	out->prefixlen = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *h, struct rtnl_route *out)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
	size_t alen;
	const void *p;

	memset(out, 0, sizeof(*out));
	if (h->nlmsg_type != RTM_NEWROUTE || len < 0 || (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return -1;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	if (rtm->rtm_dst_len > alen * 8)
		return -1;
	out->family = rtm->rtm_family;
	out->dst_len = rtm->rtm_dst_len;
	out->table = rtm->rtm_table;
	out->scope = rtm->rtm_scope;
	out->protocol = rtm->rtm_protocol;
	out->type = rtm->rtm_type;
	out->onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_DST:
			if ((p = attr(a, alen)))
				memcpy(out->dst, p, alen);
			break;
		case RTA_GATEWAY:
			if ((p = attr(a, alen))) {
				memcpy(out->gw, p, alen);
				out->has_gw = true;
			}
			break;
		case RTA_PREFSRC:
			if ((p = attr(a, alen))) {
				memcpy(out->src, p, alen);
				out->has_src = true;
			}
			break;
		case RTA_OIF:
			if ((p = attr(a, 4)))
				memcpy(&out->oif, p, 4);
			break;
		case RTA_PRIORITY:
			if ((p = attr(a, 4)))
				memcpy(&out->metric, p, 4);
			break;
		case RTA_TABLE:
			if ((p = attr(a, 4)))
				memcpy(&out->table, p, 4);
			break;
		case RTA_METRICS: {
			int mlen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *m = RTA_DATA(a); RTA_OK(m, mlen); m = RTA_NEXT(m, mlen))
				if (m->rta_type == RTAX_MTU && (p = attr(m, 4)))
					memcpy(&out->mtu, p, 4);
			break;
		}
		}
	}
	return 0;
}

const char *rtnl_arphrd_name(unsigned t, char *buf, size_t len)
{
	switch (t) {
	case ARPHRD_ETHER:
		return "ether";
	case ARPHRD_LOOPBACK:
		return "loopback";
	case ARPHRD_NONE:
		return "none";
	case ARPHRD_SIT:
		return "sit";
	case ARPHRD_TUNNEL:
		return "ipip";
	case ARPHRD_TUNNEL6:
		return "tunnel6";
	case ARPHRD_IPGRE:
		return "gre";
	case ARPHRD_VOID:
		return "void";
	default:
		snprintf(buf, len, "%u", t);
		return buf;
	}
}

const char *rtnl_operstate_name(unsigned s)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					      "testing", "dormant", "up" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *rtnl_scope_name(unsigned s)
{
	switch (s) {
	case RT_SCOPE_UNIVERSE:
		return "global";
	case RT_SCOPE_SITE:
		return "site";
	case RT_SCOPE_LINK:
		return "link";
	case RT_SCOPE_HOST:
		return "host";
	default:
		return "nowhere";
	}
}

/* --- changes --- */

struct by_name {
	const char *name;
	int index;
};

static int match_name(void *arg, const struct nlmsghdr *h)
{
	struct by_name *b = arg;
	struct rtnl_link l;

	if (rtnl_parse_link(h, &l) == 0 && strcmp(l.name, b->name) == 0)
		b->index = (int)l.index;
	return 0;
}

int rtnl_link_index(const char *name, char *err, size_t errlen)
{
	struct by_name b = { name, -ENODEV };
	int r;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "link %s: a link name has at most %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if ((r = rtnl_dump(RTM_GETLINK, match_name, &b)) < 0) {
		snprintf(err, errlen, "link %s: rtnetlink link dump: %s", name, strerror(-r));
		return r;
	}
	if (b.index < 0)
		snprintf(err, errlen, "link %s: no such link", name);
	return b.index;
}

int rtnl_link_set(unsigned index, int up, unsigned mtu, char *err, size_t errlen)
{
	struct nlreq q;
	struct ifinfomsg *ifi = NLMSG_DATA(&q.h);
	char what[64];

	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	q.h.nlmsg_type = RTM_NEWLINK;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	if (up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	if (mtu && nlreq_put(&q, IFLA_MTU, &mtu, sizeof(mtu)) < 0)
		return -EMSGSIZE;
	snprintf(what, sizeof(what), "set link %u%s%s", index, up < 0 ? "" : up ? " up" : " down", mtu ? " mtu" : "");
	return nlreq_transact(&q, what, err, errlen);
}

int rtnl_link_set_mac(unsigned index, const unsigned char mac[6], char *err, size_t errlen)
{
	struct nlreq q;
	struct ifinfomsg *ifi = nlreq_init(&q, RTM_NEWLINK, 0, sizeof(*ifi));
	char what[64];

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	if (nlreq_put(&q, IFLA_ADDRESS, mac, 6) < 0)
		return -EMSGSIZE;
	snprintf(what, sizeof(what), "set link %u address %02x:%02x:%02x:%02x:%02x:%02x", index, mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return nlreq_transact(&q, what, err, errlen);
}

int rtnl_addr_req(struct nlreq *q, bool add, int family, unsigned index, const void *addr, unsigned prefixlen,
		  char *what, size_t whatlen)
{
	struct ifaddrmsg *ifa;
	size_t alen = family == AF_INET ? 4 : 16;
	char ip[RTNL_IP_MAX] = "?";

	if ((family != AF_INET && family != AF_INET6) || prefixlen > alen * 8) {
		snprintf(what, whatlen, "address: family %d, prefix /%u: not an IPv4 or IPv6 address", family,
			 prefixlen);
		return -EINVAL;
	}
	ifa = nlreq_init(q, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_index = index;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	nlreq_put(q, IFA_LOCAL, addr, alen);
	nlreq_put(q, IFA_ADDRESS, addr, alen);
	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(what, whatlen, "%s address %s/%u on link %u", add ? "add" : "delete", ip, prefixlen, index);
	return 0;
}

int rtnl_addr_change(bool add, int family, unsigned index, const void *addr, unsigned prefixlen, char *err,
		     size_t errlen)
{
	struct nlreq q;
	char what[RTNL_WHAT_MAX];

	if (rtnl_addr_req(&q, add, family, index, addr, prefixlen, what, sizeof(what)) < 0) {
		snprintf(err, errlen, "%s", what);
		return -EINVAL;
	}
	return nlreq_transact(&q, what, err, errlen);
}

int rtnl_route_req(struct nlreq *q, bool add, const struct rtnl_route *r, char *what, size_t whatlen)
{
	struct rtmsg *rtm;
	size_t alen = r->family == AF_INET ? 4 : 16;
	char dst[RTNL_IP_MAX] = "";
	unsigned table = r->table ? r->table : RT_TABLE_MAIN;

	if ((r->family != AF_INET && r->family != AF_INET6) || r->dst_len > alen * 8) {
		snprintf(what, whatlen, "route: not an IPv4 or IPv6 destination");
		return -EINVAL;
	}
	rtm = nlreq_init(q, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)r->family;
	rtm->rtm_dst_len = (unsigned char)r->dst_len;
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = add ? r->scope : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	if (add && r->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (r->dst_len)
		nlreq_put(q, RTA_DST, r->dst, alen);
	if (r->has_gw)
		nlreq_put(q, RTA_GATEWAY, r->gw, alen);
	if (r->has_src)
		nlreq_put(q, RTA_PREFSRC, r->src, alen);
	if (r->oif)
		nlreq_put(q, RTA_OIF, &r->oif, sizeof(r->oif));
	if (r->metric)
		nlreq_put(q, RTA_PRIORITY, &r->metric, sizeof(r->metric));
	if (table >= 256)
		nlreq_put(q, RTA_TABLE, &table, sizeof(table));
	if (r->mtu) {
		unsigned char mx[RTA_LENGTH(sizeof(unsigned))];
		struct rtattr *m = (struct rtattr *)mx;

		m->rta_type = RTAX_MTU;
		m->rta_len = RTA_LENGTH(sizeof(unsigned));
		memcpy(RTA_DATA(m), &r->mtu, sizeof(unsigned));
		nlreq_put(q, RTA_METRICS, mx, sizeof(mx));
	}
	if (r->dst_len) {
		inet_ntop(r->family, r->dst, dst, sizeof(dst));
		snprintf(what, whatlen, "%s route %s/%u", add ? "add" : "delete", dst, r->dst_len);
	} else {
		snprintf(what, whatlen, "%s the default route", add ? "add" : "delete");
	}
	return 0;
}

int rtnl_route_change(bool add, const struct rtnl_route *r, char *err, size_t errlen)
{
	struct nlreq q;
	char what[RTNL_WHAT_MAX];

	if (rtnl_route_req(&q, add, r, what, sizeof(what)) < 0) {
		snprintf(err, errlen, "%s", what);
		return -EINVAL;
	}
	return nlreq_transact(&q, what, err, errlen);
}

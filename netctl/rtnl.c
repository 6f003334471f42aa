/* SPDX-License-Identifier: MIT */
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
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
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

int rtnl_parse_link(const struct nlmsghdr *h, struct rtnl_link *out)
{
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
		case IFLA_ADDRESS:
			hex_addr(RTA_DATA(a), RTA_PAYLOAD(a), out->hwaddr, sizeof(out->hwaddr));
			break;
		case IFLA_LINKINFO: {
			int ilen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					attr_str(i, out->kind, sizeof(out->kind));
			break;
		}
		}
	}
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

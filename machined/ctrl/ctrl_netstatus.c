/* SPDX-License-Identifier: MIT */
/*
 * LinkStatusController and AddressStatusController in one file: network/LinkStatus and
 * network/AddressStatus as the kernel has them, read over rtnetlink (a dump per run) and
 * followed through its multicast groups, so a change made behind machined's back shows up.
 * The one source of the kernel's links and addresses for every other controller (the API
 * certificate names the addresses from here). netctl's watch takes this over with the
 * networking controllers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "machined/ctrl/controllers.h"

#define NL_BUF 32768
#define LINKS_MAX 512

struct netstatus {
	struct loop *loop;
	int ev_fd;                  /* the multicast groups */
	struct loop_watch *ev_w;
	struct rt_ctrl *links, *addrs;
	char names[LINKS_MAX][IFNAMSIZ];  /* by ifindex % LINKS_MAX, from the last link dump */
	unsigned idx[LINKS_MAX];
};

static struct netstatus ns_state;

static const struct rt_output link_out[] = { { RES(LINK_STATUS), RT_EXCLUSIVE } };
static const struct rt_output addr_out[] = { { RES(ADDRESS_STATUS), RT_EXCLUSIVE } };

/* --- rtnetlink --- */

typedef int nl_msg_fn(void *arg, const struct nlmsghdr *h);

/* Dumps one kind (RTM_GETLINK, RTM_GETADDR), calling fn per message. 0 or -errno. */
static int nl_dump(int type, nl_msg_fn *fn, void *arg)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = { { sizeof(req), (uint16_t)type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };
	struct timeval tv = { 2, 0 };
	char *buf = malloc(NL_BUF);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), r = 0;
	bool done = false;

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
	while (!done && r == 0) {
		ssize_t n = recv(fd, buf, NL_BUF, 0);

		if (n < 0) {
			r = -errno;
			break;
		}
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				r = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EIO;
				break;
			}
			if ((r = fn(arg, h)) < 0)
				break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

static const char *arphrd_name(unsigned t, char *buf, size_t len)
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

static const char *operstate_name(unsigned s)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					      "testing", "dormant", "up" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *scope_name(unsigned s)
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

/* The attribute's payload if it is there and at least min bytes long. */
static const void *attr(const struct rtattr *a, size_t min)
{
	return RTA_PAYLOAD(a) >= min ? RTA_DATA(a) : NULL;
}

/* A NUL-terminated string attribute copied into out, or "" when it is not one. */
static void attr_str(const struct rtattr *a, char *out, size_t len)
{
	size_t n = RTA_PAYLOAD(a);
	const char *s = RTA_DATA(a);

	out[0] = '\0';
	if (n == 0 || memchr(s, '\0', n) == NULL || strlen(s) >= len)
		return;
	memcpy(out, s, strlen(s) + 1);
}

static void hex_addr(const uint8_t *p, size_t n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%02x", i ? ":" : "", p[i]);
}

/* --- links --- */

struct link_run {
	struct rt_ctx *ctx;
	struct netstatus *ns;
	int r;
};

static int on_link(void *arg, const struct nlmsghdr *h)
{
	struct link_run *lr = arg;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	char name[IFNAMSIZ] = "", kind[32] = "", hw[64] = "", tbuf[16];
	uint32_t mtu = 0, master = 0;
	unsigned oper = 0;
	Basalt__Network__LinkStatus *ls;

	if (h->nlmsg_type != RTM_NEWLINK || len < 0)
		return 0;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *p;

		switch (a->rta_type) {
		case IFLA_IFNAME:
			attr_str(a, name, sizeof(name));
			break;
		case IFLA_MTU:
			if ((p = attr(a, 4)))
				memcpy(&mtu, p, 4);
			break;
		case IFLA_MASTER:
			if ((p = attr(a, 4)))
				memcpy(&master, p, 4);
			break;
		case IFLA_OPERSTATE:
			if ((p = attr(a, 1)))
				oper = *(const uint8_t *)p;
			break;
		case IFLA_ADDRESS:
			hex_addr(RTA_DATA(a), RTA_PAYLOAD(a), hw, sizeof(hw));
			break;
		case IFLA_LINKINFO: {
			int ilen = (int)RTA_PAYLOAD(a);

			for (const struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					attr_str(i, kind, sizeof(kind));
			break;
		}
		}
	}
	if (!name[0])
		return 0;
	snprintf(lr->ns->names[ifi->ifi_index % LINKS_MAX], IFNAMSIZ, "%s", name);
	lr->ns->idx[ifi->ifi_index % LINKS_MAX] = (unsigned)ifi->ifi_index;
	if (!(ls = malloc(sizeof(*ls))))
		return -ENOMEM;
	basalt__network__link_status__init(ls);
	ls->index = (uint32_t)ifi->ifi_index;
	ls->type = strdup(arphrd_name(ifi->ifi_type, tbuf, sizeof(tbuf)));
	ls->kind = strdup(kind);
	ls->hardwareaddr = strdup(hw);
	ls->mtu = mtu;
	ls->operationalstate = strdup(operstate_name(oper));
	ls->up = (ifi->ifi_flags & IFF_UP) != 0;
	ls->masterindex = master;
	if (rt_apply(lr->ctx, res_new(RES(LINK_STATUS), name, &ls->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int links_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct link_run lr = { ctx, ns, 0 };
	int r;

	memset(ns->idx, 0, sizeof(ns->idx));
	r = nl_dump(RTM_GETLINK, on_link, &lr);
	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink link dump: %s", strerror(-r));
	/* The address controller names links by the names just read. */
	if (ns->addrs)
		rt_kick(ns->addrs);
	return lr.r;
}

/* --- addresses --- */

static int on_addr(void *arg, const struct nlmsghdr *h)
{
	struct link_run *lr = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const void *local = NULL, *address = NULL;
	char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8], id[IFNAMSIZ + sizeof(cidr) + 2], link[IFNAMSIZ];
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	Basalt__Network__AddressStatus *as;

	if (h->nlmsg_type != RTM_NEWADDR || len < 0 || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL)
			local = attr(a, alen);
		else if (a->rta_type == IFA_ADDRESS)
			address = attr(a, alen);
	}
	/* IPv4 names the interface's own address IFA_LOCAL (IFA_ADDRESS is the peer's on a
	 * point-to-point link); IPv6 gives IFA_ADDRESS only. */
	if (!(local = local ? local : address) || !inet_ntop(ifa->ifa_family, local, ip, sizeof(ip)))
		return 0;
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, ifa->ifa_prefixlen);
	if (lr->ns->idx[ifa->ifa_index % LINKS_MAX] == ifa->ifa_index)
		snprintf(link, sizeof(link), "%s", lr->ns->names[ifa->ifa_index % LINKS_MAX]);
	else  /* appeared after the last link dump: the next run has its name */
		snprintf(link, sizeof(link), "if%u", ifa->ifa_index);
	snprintf(id, sizeof(id), "%s/%s", link, cidr);
	if (!(as = malloc(sizeof(*as))))
		return -ENOMEM;
	basalt__network__address_status__init(as);
	as->address = strdup(cidr);
	as->linkname = strdup(link);
	as->linkindex = ifa->ifa_index;
	as->family = strdup(ifa->ifa_family == AF_INET ? "inet4" : "inet6");
	as->scope = strdup(scope_name(ifa->ifa_scope));
	if (rt_apply(lr->ctx, res_new(RES(ADDRESS_STATUS), id, &as->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int addrs_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct link_run lr = { ctx, ns, 0 };
	int r = nl_dump(RTM_GETADDR, on_addr, &lr);

	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink address dump: %s", strerror(-r));
	return lr.r;
}

/* --- events --- */

static void on_event(void *arg, uint32_t events)
{
	struct netstatus *ns = arg;
	char buf[8192];
	bool links = false, addrs = false;
	ssize_t n;

	(void)events;
	while ((n = recv(ns->ev_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			links |= h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK;
			addrs |= h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR;
		}
	}
	/* ENOBUFS: events were lost; a dump of both finds what changed. */
	if (n < 0 && errno == ENOBUFS)
		links = addrs = true;
	if (links)
		rt_kick(ns->links);
	if (addrs || links)
		rt_kick(ns->addrs);
}

static void *shared(const struct ctrl_env *env)
{
	(void)env;
	return &ns_state;
}

static int links_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netstatus *ns = state;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };

	ns->loop = env->loop;
	ns->links = self;
	ns->ev_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (ns->ev_fd < 0 || bind(ns->ev_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    loop_watch_add(env->loop, ns->ev_fd, EPOLLIN, on_event, ns, &ns->ev_w) < 0) {
		/* Still listed once per run; only changes made later go unseen. */
		log_warn("rtnetlink: cannot follow link and address changes");
		if (ns->ev_fd >= 0)
			close(ns->ev_fd);
		ns->ev_fd = -1;
	}
	return 0;
}

static int addrs_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct netstatus *ns = state;

	(void)env;
	ns->addrs = self;
	return 0;
}

static void links_fini(void *state)
{
	struct netstatus *ns = state;

	if (ns->ev_w)
		loop_watch_del(ns->loop, ns->ev_w);
	if (ns->ev_fd >= 0)
		close(ns->ev_fd);
	memset(ns, 0, sizeof(*ns));
	ns->ev_fd = -1;
}

const struct ctrl_def ctrl_link_status = {
	.rt = { .name = "LinkStatusController", .outputs = link_out, .noutputs = 1, .reconcile = links_reconcile },
	.shared = shared,
	.init = links_start,
	.fini = links_fini,
	.touches_machine = true,
};

const struct ctrl_def ctrl_address_status = {
	.rt = { .name = "AddressStatusController", .outputs = addr_out, .noutputs = 1, .reconcile = addrs_reconcile },
	.shared = shared,
	.init = addrs_start,
	.touches_machine = true,
};

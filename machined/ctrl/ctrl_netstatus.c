/* SPDX-License-Identifier: MIT */
/*
 * LinkStatusController and AddressStatusController in one file: network/LinkStatus and
 * network/AddressStatus as the kernel has them, read over rtnetlink (netctl/rtnl.c: a dump
 * per run) and followed through its multicast groups, so a change made behind machined's
 * back shows up. The one source of the kernel's links and addresses for every other
 * controller (the API certificate names the addresses from here).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "lib/log.h"
#include "machined/ctrl/controllers.h"
#include "netctl/rtnl.h"

#define LINKS_MAX 512

struct netstatus {
	struct loop *loop;
	int ev_fd;                  /* the multicast groups */
	struct loop_watch *ev_w;
	struct rt_ctrl *links, *addrs;
	char names[LINKS_MAX][IFNAMSIZ];  /* by ifindex % LINKS_MAX, from the last link dump */
	unsigned idx[LINKS_MAX];
};

static struct netstatus ns_state = { .ev_fd = -1 };

static const struct rt_output link_out[] = { { RES(LINK_STATUS), RT_EXCLUSIVE } };
static const struct rt_output addr_out[] = { { RES(ADDRESS_STATUS), RT_EXCLUSIVE } };

struct run {
	struct rt_ctx *ctx;
	struct netstatus *ns;
	int r;
};

/* --- links --- */

static int on_link(void *arg, const struct nlmsghdr *h)
{
	struct run *lr = arg;
	struct rtnl_link l;
	char tbuf[16];
	Basalt__Network__LinkStatus *ls;

	if (rtnl_parse_link(h, &l) < 0)
		return 0;
	snprintf(lr->ns->names[l.index % LINKS_MAX], IFNAMSIZ, "%s", l.name);
	lr->ns->idx[l.index % LINKS_MAX] = l.index;
	if (!(ls = malloc(sizeof(*ls))))
		return -ENOMEM;
	basalt__network__link_status__init(ls);
	ls->index = l.index;
	ls->type = strdup(rtnl_arphrd_name(l.type, tbuf, sizeof(tbuf)));
	ls->kind = strdup(l.kind);
	ls->hardwareaddr = strdup(l.hwaddr);
	ls->mtu = l.mtu;
	ls->operationalstate = strdup(rtnl_operstate_name(l.operstate));
	ls->up = (l.flags & IFF_UP) != 0;
	ls->masterindex = l.master;
	if (rt_apply(lr->ctx, res_new(RES(LINK_STATUS), l.name, &ls->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int links_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct run lr = { ctx, ns, 0 };
	int r;

	memset(ns->idx, 0, sizeof(ns->idx));
	r = rtnl_dump(RTM_GETLINK, on_link, &lr);
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
	struct run *lr = arg;
	struct rtnl_addr a;
	char cidr[RTNL_IP_MAX + 8], id[IFNAMSIZ + sizeof(cidr) + 2], link[IFNAMSIZ];
	Basalt__Network__AddressStatus *as;

	if (rtnl_parse_addr(h, &a) < 0)
		return 0;
	snprintf(cidr, sizeof(cidr), "%s/%u", a.ip, a.prefixlen);
	if (lr->ns->idx[a.index % LINKS_MAX] == a.index)
		snprintf(link, sizeof(link), "%s", lr->ns->names[a.index % LINKS_MAX]);
	else  /* appeared after the last link dump: the next run has its name */
		snprintf(link, sizeof(link), "if%u", a.index);
	snprintf(id, sizeof(id), "%s/%s", link, cidr);
	if (!(as = malloc(sizeof(*as))))
		return -ENOMEM;
	basalt__network__address_status__init(as);
	as->address = strdup(cidr);
	as->linkname = strdup(link);
	as->linkindex = a.index;
	as->family = strdup(a.family == AF_INET ? "inet4" : "inet6");
	as->scope = strdup(rtnl_scope_name(a.scope));
	if (rt_apply(lr->ctx, res_new(RES(ADDRESS_STATUS), id, &as->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int addrs_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct run lr = { ctx, ns, 0 };
	int r = rtnl_dump(RTM_GETADDR, on_addr, &lr);

	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink address dump: %s", strerror(-r));
	return lr.r;
}

/* --- events --- */

struct seen {
	bool links, addrs;
};

static int note_event(void *arg, const struct nlmsghdr *h)
{
	struct seen *s = arg;

	s->links |= h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK;
	s->addrs |= h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR;
	return 0;
}

/* Whoever sent it, an event only makes the controllers dump again (from the kernel). */
static void on_event(void *arg, uint32_t events)
{
	struct netstatus *ns = arg;
	char buf[8192];
	struct seen s = { false, false };
	ssize_t n;

	(void)events;
	while ((n = recv(ns->ev_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		rtnl_walk(buf, (size_t)n, note_event, &s);
	/* ENOBUFS: events were lost; a dump of both finds what changed. */
	if (n < 0 && errno == ENOBUFS)
		s.links = s.addrs = true;
	if (s.links)
		rt_kick(ns->links);
	if (s.addrs || s.links)
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

	ns->loop = env->loop;
	ns->links = self;
	ns->ev_fd = rtnl_events_open();
	if (ns->ev_fd < 0 || loop_watch_add(env->loop, ns->ev_fd, EPOLLIN, on_event, ns, &ns->ev_w) < 0) {
		/* Still listed once per run; only changes made later go unseen. */
		log_warnx("rtnetlink: cannot follow link and address changes: %s",
			  strerror(ns->ev_fd < 0 ? -ns->ev_fd : errno));
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

/* SPDX-License-Identifier: MIT */
/*
 * LinkStatusController: network/LinkStatus as the kernel has each link, read over
 * rtnetlink (netctl/rtnl.c: a dump per run) and followed through its link and address
 * multicast groups, whose events kick both this controller and the address one, so a
 * change made behind machined's back shows up.
 */
#include <arpa/inet.h>
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
#include "machined/ctrl/netstatus.h"
#include "netctl/link.h"
#include "netctl/rtnl.h"
#include "netctl/sysdev.h"

struct netstatus netstatus_shared = { .ev_fd = -1 };

static const struct rt_output link_out[] = { { RES(LINK_STATUS), RT_EXCLUSIVE } };

/* A bond's options as the kernel has them (members are dumped before the bonds they are in:
 * a lower index, so the primary's name is known by then). */
static Basalt__Network__BondStatus *bond_status(struct netstatus *ns, const struct rtnl_bond *b)
{
	Basalt__Network__BondStatus *s = malloc(sizeof(*s));
	char name[IFNAMSIZ] = "", ip[INET_ADDRSTRLEN];

	if (!s)
		return NULL;
	basalt__network__bond_status__init(s);
	s->mode = strdup(link_bond_mode_name(b->mode));
	s->miimon = b->miimon;
	s->updelay = b->updelay;
	s->downdelay = b->downdelay;
	s->minlinks = b->min_links;
	s->xmithashpolicy = strdup(link_bond_xmit_hash_name(b->xmit_hash));
	s->lacprate = strdup(link_bond_lacp_rate_name(b->lacp_rate));
	s->adselect = strdup(link_bond_ad_select_name(b->ad_select));
	s->usecarrier = b->use_carrier == 1;
	s->arpinterval = b->arp_interval;
	if (b->primary)
		netstatus_link_name(ns, b->primary, name, sizeof(name));
	s->primary = strdup(name);
	if (b->narp && (s->arpiptarget = calloc(b->narp, sizeof(char *))))
		for (unsigned i = 0; i < b->narp; i++)
			if (inet_ntop(AF_INET, b->arp[i], ip, sizeof(ip)))
				s->arpiptarget[s->n_arpiptarget++] = strdup(ip);
	return s;
}

static int on_link(void *arg, const struct nlmsghdr *h)
{
	struct netstatus_run *lr = arg;
	struct rtnl_link l;
	struct sysdev dev = { "", "" };
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
	ls->buspath = strdup(l.parent);
	ls->bus = strdup(l.bus);
	ls->permanentaddr = strdup(l.permaddr);
	if (l.bus[0] && l.parent[0])
		sysdev_read("/sys", l.bus, l.parent, &dev);
	ls->driver = strdup(dev.driver);
	ls->pciid = strdup(dev.pci_id);
	if (l.bond.present)
		ls->bond = bond_status(lr->ns, &l.bond);
	if (rt_apply(lr->ctx, res_new(RES(LINK_STATUS), l.name, &ls->base)) < 0)
		lr->r = -EIO;
	return 0;
}

static int links_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct netstatus *ns = arg;
	struct netstatus_run lr = { ctx, ns, 0 };
	int r;

	memset(ns->idx, 0, sizeof(ns->idx));
	r = rtnl_dump(RTM_GETLINK, on_link, &lr);
	if (r < 0)
		return r == -ENOMEM ? r : rt_fail(ctx, "rtnetlink link dump: %s", strerror(-r));
	/* The address controller names links by the names just read. */
	if (ns->addrs)
		rt_kick(ns->addrs);
	if (ns->routes)
		rt_kick(ns->routes);
	return lr.r;
}

struct seen {
	bool links, addrs, routes;
};

static int note_event(void *arg, const struct nlmsghdr *h)
{
	struct seen *s = arg;

	s->links |= h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK;
	s->addrs |= h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR;
	s->routes |= h->nlmsg_type == RTM_NEWROUTE || h->nlmsg_type == RTM_DELROUTE;
	return 0;
}

/* Whoever sent it, an event only makes the controllers dump again (from the kernel). */
static void on_event(void *arg, uint32_t events)
{
	struct netstatus *ns = arg;
	char buf[8192];
	struct seen s = { false, false, false };
	ssize_t n;

	(void)events;
	while ((n = recv(ns->ev_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		rtnl_walk(buf, (size_t)n, note_event, &s);
	/* ENOBUFS: events were lost; a dump of both finds what changed. */
	if (n < 0 && errno == ENOBUFS)
		s.links = s.addrs = s.routes = true;
	if (s.links)
		rt_kick(ns->links);
	if (s.addrs || s.links)
		rt_kick(ns->addrs);
	if ((s.routes || s.links) && ns->routes)
		rt_kick(ns->routes);
}

const char *netstatus_link_name(const struct netstatus *ns, unsigned index, char *buf, size_t len)
{
	if (ns->idx[index % LINKS_MAX] == index)
		snprintf(buf, len, "%s", ns->names[index % LINKS_MAX]);
	else  /* appeared after the last link dump: the next run has its name */
		snprintf(buf, len, "if%u", index);
	return buf;
}

void *netstatus_state(const struct ctrl_env *env)
{
	(void)env;
	return &netstatus_shared;
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
	.shared = netstatus_state,
	.init = links_start,
	.fini = links_fini,
	.touches_machine = true,
};

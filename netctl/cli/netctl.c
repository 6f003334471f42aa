/* SPDX-License-Identifier: MIT */
/*
 * netctl: what netctl sees, printed, for developers (not shipped in the image).
 *   netctl links | addrs | routes      one dump, one line per object
 *   netctl monitor                     link, address and route events as they come
 *   netctl dhcp4 LINK [SECONDS]        a DHCPv4 exchange on LINK, the lease printed, nothing applied
 *   netctl wg show|set IFACE ...       a WireGuard device through the userspace backend (cli/wg.c)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/parse.h"
#include "netctl/dhcp4.h"
#include "netctl/dhcp4sock.h"
#include "netctl/rtnl.h"

#include "netctl/cli/cli.h"

static int print_link(void *arg, const struct nlmsghdr *h)
{
	struct rtnl_link l;
	char t[16];

	(void)arg;
	if (rtnl_parse_link(h, &l) == 0)
		printf("%s%u %s type=%s kind=%s mac=%s mtu=%u %s oper=%s master=%u bus=%s parent=%s\n",
		       h->nlmsg_type == RTM_DELLINK ? "deleted " : "", l.index, l.name, rtnl_arphrd_name(l.type, t, sizeof(t)),
		       l.kind[0] ? l.kind : "-", l.hwaddr, l.mtu, l.flags & 1 ? "up" : "down",
		       rtnl_operstate_name(l.operstate), l.master, l.bus[0] ? l.bus : "-", l.parent[0] ? l.parent : "-");
	return 0;
}

static int print_addr(void *arg, const struct nlmsghdr *h)
{
	struct rtnl_addr a;

	(void)arg;
	if (rtnl_parse_addr(h, &a) == 0)
		printf("%s%u %s/%u scope=%s\n", h->nlmsg_type == RTM_DELADDR ? "deleted " : "", a.index, a.ip, a.prefixlen,
		       rtnl_scope_name(a.scope));
	return 0;
}

static int print_route(void *arg, const struct nlmsghdr *h)
{
	struct rtnl_route r;
	char dst[64] = "default", gw[64] = "-";

	(void)arg;
	if (rtnl_parse_route(h, &r) < 0)
		return 0;
	if (r.dst_len) {
		inet_ntop(r.family, r.dst, dst, sizeof(dst));
		snprintf(dst + strlen(dst), sizeof(dst) - strlen(dst), "/%u", r.dst_len);
	}
	if (r.has_gw)
		inet_ntop(r.family, r.gw, gw, sizeof(gw));
	printf("%s%s via %s oif=%u table=%u metric=%u scope=%s proto=%u type=%u\n",
	       h->nlmsg_type == RTM_DELROUTE ? "deleted " : "", dst, gw, r.oif, r.table, r.metric, rtnl_scope_name(r.scope),
	       r.protocol, r.type);
	return 0;
}

static int print_any(void *arg, const struct nlmsghdr *h)
{
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		printf("link ");
		return print_link(arg, h);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		printf("addr ");
		return print_addr(arg, h);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		printf("route ");
		return print_route(arg, h);
	default:
		return 0;
	}
}

static int monitor(void)
{
	int fd = rtnl_events_open();
	char buf[16384];

	if (fd < 0) {
		fprintf(stderr, "netctl: rtnetlink events: %s\n", strerror(-fd));
		return 1;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return 1;
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			rtnl_walk(buf, (size_t)n, print_any, NULL);
			fflush(stdout);
		}
		if (n < 0 && errno == ENOBUFS)
			printf("# events lost (ENOBUFS)\n");
	}
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void print_lease(const struct dhcp4_lease *l)
{
	char a[INET_ADDRSTRLEN];

	printf("address %s/%u\nserver %s\nlease %u s (T1 %u, T2 %u)\n", inet_ntop(AF_INET, l->addr, a, sizeof(a)),
	       l->prefix, inet_ntop(AF_INET, l->server, a, sizeof(a)), l->lease_s, l->t1_s, l->t2_s);
	for (unsigned i = 0; i < l->nroutes; i++) {
		char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

		printf("route %s/%u via %s\n", inet_ntop(AF_INET, l->routes[i].dst, d, sizeof(d)), l->routes[i].prefix,
		       inet_ntop(AF_INET, l->routes[i].gw, g, sizeof(g)));
	}
	for (unsigned i = 0; i < l->ndns; i++)
		printf("dns %s\n", inet_ntop(AF_INET, l->dns[i], a, sizeof(a)));
	for (unsigned i = 0; i < l->nntp; i++)
		printf("ntp %s\n", inet_ntop(AF_INET, l->ntp[i], a, sizeof(a)));
	for (unsigned i = 0; i < l->nsearch; i++)
		printf("search %s\n", l->search[i]);
	if (l->hostname[0])
		printf("hostname %s\n", l->hostname);
	if (l->domain[0])
		printf("domain %s\n", l->domain);
	if (l->mtu)
		printf("mtu %u\n", l->mtu);
}

struct mac_of {
	const char *name;
	unsigned index;
	char hw[RTNL_HWADDR_MAX];
};

static int find_link(void *arg, const struct nlmsghdr *h)
{
	struct mac_of *m = arg;
	struct rtnl_link l;

	if (rtnl_parse_link(h, &l) == 0 && strcmp(l.name, m->name) == 0) {
		m->index = l.index;
		snprintf(m->hw, sizeof(m->hw), "%s", l.hwaddr);
	}
	return 0;
}

/* One exchange, up to BOUND; the lease printed. The link must be up. */
static int dhcp4(const char *link, unsigned secs)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, any[4] = { 0 };
	struct mac_of m = { link, 0, "" };
	uint8_t mac[6], pkt[DHCP4_PACKET_MAX + 64], msg[DHCP4_PACKET_MAX];
	struct dhcp4_client c;
	struct dhcp4_action a = { 0 };
	uint64_t seed = 0, end;
	char err[256];
	int fd;

	if (rtnl_dump(RTM_GETLINK, find_link, &m) < 0 || !m.index ||
	    !parse_hwaddr(m.hw, mac)) {
		fprintf(stderr, "netctl: %s: no such Ethernet link\n", link);
		return 1;
	}
	if ((fd = dhcp4sock_open(m.index, err, sizeof(err))) < 0) {
		fprintf(stderr, "netctl: %s\n", err);
		return 1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now_ms();
	dhcp4_init(&c, mac, NULL, seed, now_ms());
	end = now_ms() + secs * 1000ull;
	while (now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t t = now_ms();

		if (t >= c.next_ms) {
			dhcp4_tick(&c, t, &a);
		} else if (poll(&p, 1, (int)(c.next_ms - t)) > 0) {
			bool ready;
			ssize_t n = dhcp4sock_recv(fd, pkt, sizeof(pkt), &ready, NULL);
			const uint8_t *in;
			size_t len;
			struct dhcp4_reply r;

			if (n <= 0 || dhcp4_unframe(pkt, (size_t)n, ready, &in, &len, err, sizeof(err)) < 0 ||
			    dhcp4_parse(in, len, &r, err, sizeof(err)) < 0)
				continue;
			dhcp4_input(&c, &r, now_ms(), &a);
		} else {
			continue;
		}
		if (a.send) {
			size_t n = dhcp4_build(msg, sizeof(msg), &a.req);

			printf("# sent %s (state %s)\n", a.req.type == DHCP4_DISCOVER ? "DISCOVER" : "REQUEST",
			       dhcp4_state_name(c.state));
			if (dhcp4sock_send(fd, m.index, bcast, any, (const uint8_t *)"\xff\xff\xff\xff", msg, n, err,
					   sizeof(err)) < 0)
				fprintf(stderr, "netctl: %s\n", err);
		}
		if (a.event == DHCP4_EV_BOUND) {
			print_lease(&c.lease);
			close(fd);
			return 0;
		}
		a.send = false;
		a.event = DHCP4_EV_NONE;
	}
	fprintf(stderr, "netctl: dhcp4 %s: no lease in %u s (state %s, %lu replies ignored)\n", link, secs,
		dhcp4_state_name(c.state), c.ignored);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int r;

	if (strcmp(cmd, "links") == 0 || strcmp(cmd, "addrs") == 0 || strcmp(cmd, "routes") == 0) {
		r = rtnl_dump(cmd[0] == 'l' ? RTM_GETLINK : cmd[0] == 'a' ? RTM_GETADDR : RTM_GETROUTE,
			      cmd[0] == 'l' ? print_link : cmd[0] == 'a' ? print_addr : print_route, NULL);
		if (r < 0)
			fprintf(stderr, "netctl: %s: %s\n", cmd, strerror(-r));
		return r < 0;
	}
	if (strcmp(cmd, "monitor") == 0)
		return monitor();
	if (strcmp(cmd, "dhcp4") == 0 && argc > 2)
		return dhcp4(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 30);
	if (!strcmp(cmd, "wg"))
		return cli_wg(argc - 2, argv + 2);
	fprintf(stderr, "usage: netctl links | addrs | routes | monitor | dhcp4 LINK [SECONDS] | wg show|set IFACE ...\n");
	return 2;
}

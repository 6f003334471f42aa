/* SPDX-License-Identifier: MIT */
/*
 * netctl's rtnetlink changes against the real kernel, in a network namespace this test
 * makes for itself (only its own loopback is touched): a link set up with an MTU, an
 * address and a route added, seen in a dump (the route parsed back), deleted; links of the
 * kinds this kernel has (veth, bridge) created, a member put into the bridge, deleted; and
 * the kernel's refusals turned into errors that name what was asked. (Bonds, VLANs and
 * dummies need modules the test host lacks: the QEMU suite creates those.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "netctl/link.h"
#include "netctl/rtnl.h"

static char err[512];

struct found {
	const char *ip;
	unsigned prefixlen, mtu;
	bool seen;
};

static int find_addr(void *arg, const struct nlmsghdr *h)
{
	struct found *f = arg;
	struct rtnl_addr a;

	if (rtnl_parse_addr(h, &a) == 0 && strcmp(a.ip, f->ip) == 0 && a.prefixlen == f->prefixlen)
		f->seen = true;
	return 0;
}

static int find_lo(void *arg, const struct nlmsghdr *h)
{
	struct found *f = arg;
	struct rtnl_link l;

	if (rtnl_parse_link(h, &l) == 0 && strcmp(l.name, "lo") == 0) {
		f->mtu = l.mtu;
		f->seen = (l.flags & IFF_UP) != 0;
	}
	return 0;
}

struct route_seen {
	unsigned char dst[4];
	unsigned metric, oif;
	bool seen;
};

static int find_route(void *arg, const struct nlmsghdr *h)
{
	struct route_seen *f = arg;
	struct rtnl_route r;

	if (rtnl_parse_route(h, &r) == 0 && r.family == AF_INET && r.dst_len == 24 && memcmp(r.dst, f->dst, 4) == 0 &&
	    r.metric == f->metric && r.oif == f->oif && r.table == RT_TABLE_MAIN)
		f->seen = true;
	return 0;
}

struct link_seen {
	const char *name;
	char kind[32], hwaddr[RTNL_HWADDR_MAX];
	unsigned master, index;
};

static int find_link(void *arg, const struct nlmsghdr *h)
{
	struct link_seen *f = arg;
	struct rtnl_link l;

	if (rtnl_parse_link(h, &l) == 0 && strcmp(l.name, f->name) == 0) {
		snprintf(f->kind, sizeof(f->kind), "%s", l.kind);
		snprintf(f->hwaddr, sizeof(f->hwaddr), "%s", l.hwaddr);
		f->master = l.master;
		f->index = l.index;
	}
	return 0;
}

static struct link_seen link_named(const char *name)
{
	struct link_seen f = { .name = name };

	assert_int_equal(rtnl_dump(RTM_GETLINK, find_link, &f), 0);
	return f;
}

static void test_link_kinds(void **state)
{
	struct link_want v = { .name = "bt-v0", .kind = "veth", .peer = "bt-v1", .stp = -1 };
	struct link_want br = { .name = "bt-br0", .kind = "bridge", .stp = 0 };
	struct link_want bad = { .name = "bt-bond0", .kind = "bond", .bond_mode = "802.3ab", .stp = -1 };
	struct link_seen f;

	(void)state;
	assert_int_equal(link_create(&v, err, sizeof(err)), 0);
	assert_string_equal(link_named("bt-v0").kind, "veth");
	assert_string_equal(link_named("bt-v1").kind, "veth");
	/* A hardware address set, read back; one the kernel refuses (multicast) named. */
	assert_int_equal(rtnl_link_set_mac(link_named("bt-v0").index, (const unsigned char *)"\x02\x42\xac\x11\x00\x07",
					   err, sizeof(err)), 0);
	assert_string_equal(link_named("bt-v0").hwaddr, "02:42:ac:11:00:07");
	assert_true(rtnl_link_set_mac(link_named("bt-v0").index, (const unsigned char *)"\x01\x00\x5e\x00\x00\x01", err,
				      sizeof(err)) < 0);
	assert_non_null(strstr(err, "address 01:00:5e:00:00:01: "));
	assert_int_equal(link_create(&br, err, sizeof(err)), 0);
	f = link_named("bt-br0");
	assert_string_equal(f.kind, "bridge");
	assert_int_equal(link_set_master(link_named("bt-v0").index, f.index, err, sizeof(err)), 0);
	assert_int_equal(link_named("bt-v0").master, f.index);
	assert_int_equal(link_set_master(link_named("bt-v0").index, 0, err, sizeof(err)), 0);
	assert_int_equal(link_named("bt-v0").master, 0);
	/* Created twice: the kernel's refusal, named. */
	assert_true(link_create(&br, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "create bridge link bt-br0: "));
	/* A name netctl checks itself, before the kernel sees it. */
	assert_int_equal(link_create(&bad, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bond bt-bond0: mode \"802.3ab\" is not one the kernel knows");
	assert_int_equal(link_bond_mode("802.3ad"), 4);
	assert_int_equal(link_bond_xmit_hash("layer3+4"), 1);
	assert_int_equal(link_bond_lacp_rate("fast"), 1);
	assert_int_equal(link_delete(f.index, err, sizeof(err)), 0);
	assert_int_equal(link_named("bt-br0").index, 0);
	assert_int_equal(link_delete(link_named("bt-v0").index, err, sizeof(err)), 0);
	assert_int_equal(link_named("bt-v1").index, 0);  /* a veth pair goes together */
}

static int setup(void **state)
{
	(void)state;
	/* Never the caller's network: a namespace of our own, or nothing runs. */
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	return 0;
}

static void test_link_address_route(void **state)
{
	struct found lo = { 0 }, a = { "10.200.0.1", 24, 0, false };
	unsigned char ip[4], dst[4];
	struct rtnl_route r = { .family = AF_INET, .dst_len = 24, .scope = RT_SCOPE_LINK, .metric = 50 };
	int idx;

	(void)state;
	idx = rtnl_link_index("lo", err, sizeof(err));
	assert_int_equal(idx, 1);
	assert_int_equal(rtnl_link_set((unsigned)idx, 1, 1500, err, sizeof(err)), 0);
	assert_int_equal(rtnl_dump(RTM_GETLINK, find_lo, &lo), 0);
	assert_true(lo.seen);
	assert_int_equal(lo.mtu, 1500);

	inet_pton(AF_INET, "10.200.0.1", ip);
	assert_int_equal(rtnl_addr_change(true, AF_INET, (unsigned)idx, ip, 24, err, sizeof(err)), 0);
	assert_int_equal(rtnl_dump(RTM_GETADDR, find_addr, &a), 0);
	assert_true(a.seen);
	/* Adding it again replaces it: no error. */
	assert_int_equal(rtnl_addr_change(true, AF_INET, (unsigned)idx, ip, 24, err, sizeof(err)), 0);

	inet_pton(AF_INET, "10.201.0.0", dst);
	memcpy(r.dst, dst, 4);
	r.oif = (unsigned)idx;
	assert_int_equal(rtnl_route_change(true, &r, err, sizeof(err)), 0);
	{
		struct route_seen rs = { { 10, 201, 0, 0 }, 50, (unsigned)idx, false };

		assert_int_equal(rtnl_dump(RTM_GETROUTE, find_route, &rs), 0);
		assert_true(rs.seen);
	}
	assert_int_equal(rtnl_route_change(false, &r, err, sizeof(err)), 0);
	/* Gone: deleting it again is the kernel's refusal, named. */
	assert_true(rtnl_route_change(false, &r, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "delete route 10.201.0.0/24: "));

	assert_int_equal(rtnl_addr_change(false, AF_INET, (unsigned)idx, ip, 24, err, sizeof(err)), 0);
	a.seen = false;
	assert_int_equal(rtnl_dump(RTM_GETADDR, find_addr, &a), 0);
	assert_false(a.seen);
}

static void test_refusals_named(void **state)
{
	unsigned char ip[4];

	(void)state;
	inet_pton(AF_INET, "10.9.9.9", ip);
	assert_int_equal(rtnl_addr_change(true, AF_INET, 9999, ip, 32, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "add address 10.9.9.9/32 on link 9999: "));
	assert_int_equal(rtnl_link_index("nosuchlink0", err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "link nosuchlink0: no such link");
	assert_int_equal(rtnl_addr_change(true, AF_INET, 1, ip, 33, err, sizeof(err)), -EINVAL);
	assert_int_equal(rtnl_link_set(9999, 1, 1400, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "set link 9999 up mtu: "));
}

struct batch_seen {
	size_t failed_tag[8];
	char failed_err[8][256];
	unsigned nfailed;
};

static void on_batch_error(void *arg, size_t tag, int error, const char *e)
{
	struct batch_seen *b = arg;

	assert_true(error < 0);
	if (b->nfailed < 8) {
		b->failed_tag[b->nfailed] = tag;
		snprintf(b->failed_err[b->nfailed], sizeof(b->failed_err[0]), "%s", e);
	}
	b->nfailed++;
}

static int count_addrs(void *arg, const struct nlmsghdr *h)
{
	struct rtnl_addr a;

	if (rtnl_parse_addr(h, &a) == 0 && strncmp(a.ip, "10.210.", 7) == 0)
		++*(unsigned *)arg;
	return 0;
}

/* 300 addresses in batches (more than one send), one bad among them: the rest land, it is named by its tag. */
static void test_batch(void **state)
{
	static struct nlbatch b;
	struct batch_seen seen = { 0 };
	struct nlreq q;
	char what[RTNL_WHAT_MAX];
	unsigned n = 0;

	(void)state;
	nlbatch_init(&b, on_batch_error, &seen);
	for (unsigned i = 0; i < 300; i++) {
		unsigned char ip[4] = { 10, 210, (unsigned char)(i / 250), (unsigned char)(i % 250 + 1) };

		assert_int_equal(rtnl_addr_req(&q, true, AF_INET, i == 150 ? 9999 : 1, ip, 32, what, sizeof(what)), 0);
		nlbatch_add(&b, &q, what, 1000 + i);
	}
	assert_true(b.n < NLBATCH_REQS);   /* the first batches went out as they filled */
	nlbatch_flush(&b);
	assert_int_equal(b.n, 0);
	assert_int_equal(seen.nfailed, 1);
	assert_int_equal(b.failed, 1);
	assert_int_equal(seen.failed_tag[0], 1150);
	assert_non_null(strstr(seen.failed_err[0], "add address 10.210.0.151/32 on link 9999: "));
	assert_int_equal(rtnl_dump(RTM_GETADDR, count_addrs, &n), 0);
	assert_int_equal(n, 299);
	/* And off again, in one batch with nothing failing. */
	for (unsigned i = 0; i < 300; i++) {
		unsigned char ip[4] = { 10, 210, (unsigned char)(i / 250), (unsigned char)(i % 250 + 1) };

		if (i == 150)
			continue;
		assert_int_equal(rtnl_addr_req(&q, false, AF_INET, 1, ip, 32, what, sizeof(what)), 0);
		nlbatch_add(&b, &q, what, i);
	}
	assert_int_equal(nlbatch_flush(&b), 0);
	n = 0;
	assert_int_equal(rtnl_dump(RTM_GETADDR, count_addrs, &n), 0);
	assert_int_equal(n, 0);
	/* The one-at-a-time requests still pair with their own acks after a batch. */
	assert_int_equal(rtnl_link_index("lo", err, sizeof(err)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_address_route),
		cmocka_unit_test(test_refusals_named),
		cmocka_unit_test(test_link_kinds),
		cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * netctl's rtnetlink changes against the real kernel, in a network namespace this test
 * makes for itself (only its own loopback is touched): a link set up with an MTU, an
 * address and a route added, seen in a dump, deleted; and the kernel's refusals turned into
 * errors that name what was asked.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_address_route),
		cmocka_unit_test(test_refusals_named),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

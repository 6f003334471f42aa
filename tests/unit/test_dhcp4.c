/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 (netctl/dhcp4.c): a DISCOVER byte for byte as RFC 2131/2132 lay it out, server
 * replies assembled here from the RFCs' layouts (not by our encoder), hostile options, the
 * IPv4/UDP framing, and the client's states on a clock the test moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "netctl/dhcp4.h"

static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static char err[256];

/* A BOOTREPLY: header fields at their RFC 2131 offsets, the cookie, then opts as given. */
static size_t reply(uint8_t *p, uint32_t xid, const uint8_t yiaddr[4], const uint8_t *opts, size_t n)
{
	memset(p, 0, 1024);
	p[0] = 2, p[1] = 1, p[2] = 6;
	p[4] = xid >> 24, p[5] = xid >> 16, p[6] = xid >> 8, p[7] = xid;
	memcpy(p + 16, yiaddr, 4);
	memcpy(p + 28, mac, 6);
	p[236] = 99, p[237] = 130, p[238] = 83, p[239] = 99;
	memcpy(p + 240, opts, n);
	return 240 + n;
}

static const uint8_t ack_opts[] = {
	53, 1, 5,                                       /* ACK */
	1, 4, 255, 255, 255, 0,                         /* /24 */
	3, 4, 192, 168, 1, 1,                           /* router */
	6, 8, 192, 168, 1, 1, 9, 9, 9, 9,               /* DNS */
	51, 4, 0, 0, 0x0e, 0x10,                        /* 3600 s */
	54, 4, 192, 168, 1, 1,                          /* server */
	15, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',       /* domain */
	119, 19, 3, 'e', 'n', 'g', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0xc0, 4,                                        /* search: eng.example.com, example.com (a pointer) */
	26, 2, 0x05, 0xdc,                              /* MTU 1500 */
	42, 4, 192, 168, 1, 2,                          /* NTP */
	12, 5, 'n', 'o', 'd', 'e', '1',                 /* hostname */
	255,
};

static void test_discover_bytes(void **state)
{
	static const uint8_t want_opts[] = {
		53, 1, 1, 61, 7, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 57, 2, 0x05, 0xdc,
		55, 13, 1, 3, 6, 12, 15, 26, 42, 51, 54, 58, 59, 119, 121, 12, 5, 'n', 'o', 'd', 'e', '1', 255,
	};
	struct dhcp4_request q = { .type = DHCP4_DISCOVER, .xid = 0x3903f326, .secs = 3, .hostname = "node1" };
	uint8_t b[1500];
	size_t n;

	(void)state;
	memcpy(q.mac, mac, 6);
	n = dhcp4_build(b, sizeof(b), &q);
	assert_int_equal(n, 300);  /* padded to BOOTP's minimum */
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 6);
	assert_memory_equal(b + 4, "\x39\x03\xf3\x26", 4);
	assert_memory_equal(b + 8, "\x00\x03", 2);
	assert_memory_equal(b + 28, mac, 6);
	assert_memory_equal(b + 236, "\x63\x82\x53\x63", 4);
	assert_memory_equal(b + 240, want_opts, sizeof(want_opts));
	for (size_t i = 240 + sizeof(want_opts); i < n; i++)
		assert_int_equal(b[i], 0);
}

static void test_request_names_offer(void **state)
{
	static const uint8_t want[] = { 53, 1, 3, 61, 7, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
					50, 4, 10, 0, 0, 7, 54, 4, 10, 0, 0, 1 };
	struct dhcp4_request q = { .type = DHCP4_REQUEST, .xid = 1, .has_requested = true, .has_server = true,
				   .requested = { 10, 0, 0, 7 }, .server = { 10, 0, 0, 1 } };
	uint8_t b[1500];

	(void)state;
	memcpy(q.mac, mac, 6);
	assert_int_equal(dhcp4_build(b, sizeof(b), &q), 300);
	assert_memory_equal(b + 240, want, sizeof(want));
}

static void test_ack_fields(void **state)
{
	static const uint8_t yi[4] = { 192, 168, 1, 100 };
	uint8_t p[1024];
	struct dhcp4_reply r;
	size_t n = reply(p, 0x3903f326, yi, ack_opts, sizeof(ack_opts));

	(void)state;
	assert_int_equal(dhcp4_parse(p, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.type, DHCP4_ACK);
	assert_int_equal(r.xid, 0x3903f326);
	assert_memory_equal(r.chaddr, mac, 6);
	assert_memory_equal(r.lease.addr, yi, 4);
	assert_int_equal(r.lease.prefix, 24);
	assert_int_equal(r.lease.nroutes, 1);
	assert_int_equal(r.lease.routes[0].prefix, 0);
	assert_memory_equal(r.lease.routes[0].gw, "\xc0\xa8\x01\x01", 4);
	assert_int_equal(r.lease.ndns, 2);
	assert_memory_equal(r.lease.dns[1], "\x09\x09\x09\x09", 4);
	assert_int_equal(r.lease.nntp, 1);
	assert_int_equal(r.lease.lease_s, 3600);
	assert_int_equal(r.lease.t1_s, 1800);   /* RFC 2131 4.4.5 defaults */
	assert_int_equal(r.lease.t2_s, 3150);
	assert_memory_equal(r.lease.server, "\xc0\xa8\x01\x01", 4);
	assert_string_equal(r.lease.domain, "example");
	assert_int_equal(r.lease.nsearch, 2);
	assert_string_equal(r.lease.search[0], "eng.example.com");
	assert_string_equal(r.lease.search[1], "example.com");
	assert_int_equal(r.lease.mtu, 1500);
	assert_string_equal(r.lease.hostname, "node1");
}

/* Classless routes win over the router option (RFC 3442), and a lease's T1/T2 are taken as sent. */
static void test_classless_routes(void **state)
{
	static const uint8_t opts[] = {
		53, 1, 2, 51, 4, 0, 0, 0, 120, 58, 4, 0, 0, 0, 10, 59, 4, 0, 0, 0, 15, 54, 4, 10, 0, 0, 1,
		3, 4, 10, 0, 0, 99,
		121, 12, 0, 10, 0, 0, 1, 16, 10, 10, 10, 0, 0, 254,
		255,
	};
	uint8_t p[1024];
	struct dhcp4_reply r;

	(void)state;
	assert_int_equal(dhcp4_parse(p, reply(p, 7, (const uint8_t *)"\x0a\x00\x00\x07", opts, sizeof(opts)), &r,
				     err, sizeof(err)), 0);
	assert_int_equal(r.type, DHCP4_OFFER);
	assert_int_equal(r.lease.t1_s, 10);
	assert_int_equal(r.lease.t2_s, 15);
	assert_int_equal(r.lease.nroutes, 2);
	assert_int_equal(r.lease.routes[0].prefix, 0);
	assert_memory_equal(r.lease.routes[0].gw, "\x0a\x00\x00\x01", 4);
	assert_int_equal(r.lease.routes[1].prefix, 16);
	assert_memory_equal(r.lease.routes[1].dst, "\x0a\x0a\x00\x00", 4);
	assert_memory_equal(r.lease.routes[1].gw, "\x0a\x00\x00\xfe", 4);
}

/* Option overload (52): the file field carries options too; a long option split in two is joined (RFC 3396). */
static void test_overload_and_split(void **state)
{
	static const uint8_t opts[] = { 53, 1, 5, 52, 1, 1, 6, 4, 1, 1, 1, 1, 255 };
	static const uint8_t file[] = { 51, 4, 0, 0, 1, 0, 6, 4, 2, 2, 2, 2, 255 };
	uint8_t p[1024];
	struct dhcp4_reply r;
	size_t n = reply(p, 7, (const uint8_t *)"\x0a\x00\x00\x07", opts, sizeof(opts));

	(void)state;
	memcpy(p + 108, file, sizeof(file));
	assert_int_equal(dhcp4_parse(p, n, &r, err, sizeof(err)), 0);
	assert_int_equal(r.lease.lease_s, 256);
	assert_int_equal(r.lease.ndns, 2);
	assert_memory_equal(r.lease.dns[1], "\x02\x02\x02\x02", 4);
}

static void test_hostile(void **state)
{
	static const struct {
		const char *why;
		uint8_t opts[32];
		size_t n;
		const char *err;  /* NULL: parses, with the bad option left out */
	} cases[] = {
		{ "option past the end", { 53, 1, 5, 51, 4, 0, 0, 1, 0, 6, 200, 1, 2 }, 13, "runs past the end" },
		{ "no type", { 51, 4, 0, 0, 1, 0, 255 }, 7, "no DHCP message type" },
		{ "a request's type", { 53, 1, 1, 255 }, 4, "not an OFFER" },
		{ "no lease time", { 53, 1, 5, 255 }, 4, "without a lease time" },
		{ "search pointer loop", { 53, 1, 5, 51, 4, 0, 0, 1, 0, 119, 4, 1, 'a', 0xc0, 0, 255 }, 16, NULL },
		{ "route width 33", { 53, 1, 5, 51, 4, 0, 0, 1, 0, 121, 5, 33, 1, 2, 3, 4, 255 }, 17, NULL },
		{ "mask not contiguous", { 53, 1, 5, 51, 4, 0, 0, 1, 0, 1, 4, 255, 0, 255, 0, 255 }, 16, NULL },
		{ "hostname with a space", { 53, 1, 5, 51, 4, 0, 0, 1, 0, 12, 3, 'a', ' ', 'b', 255 }, 15, NULL },
	};
	uint8_t p[1024];
	struct dhcp4_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = reply(p, 7, (const uint8_t *)"\x0a\x00\x00\x07", cases[i].opts, cases[i].n);
		int rc = dhcp4_parse(p, n, &r, err, sizeof(err));

		if (cases[i].err) {
			if (rc != -1 || !strstr(err, cases[i].err))
				fail_msg("%s: rc %d, \"%s\"", cases[i].why, rc, err);
		} else if (rc != 0 || r.lease.nsearch || r.lease.nroutes || r.lease.prefix || r.lease.hostname[0]) {
			fail_msg("%s: rc %d (%s), the bad option was used", cases[i].why, rc, err);
		}
	}
	assert_int_equal(dhcp4_parse(p, 100, &r, err, sizeof(err)), -1);
	p[0] = 1;
	assert_int_equal(dhcp4_parse(p, 300, &r, err, sizeof(err)), -1);
}

static void test_framing(void **state)
{
	struct dhcp4_request q = { .type = DHCP4_DISCOVER, .xid = 9 };
	uint8_t m[1500], pkt[1500];
	const uint8_t *in;
	size_t n = dhcp4_build(m, sizeof(m), &q), len, got;

	(void)state;
	len = dhcp4_frame(pkt, sizeof(pkt), (const uint8_t *)"\0\0\0\0", (const uint8_t *)"\xff\xff\xff\xff", m, n);
	assert_int_equal(len, n + 28);
	assert_int_equal(pkt[0], 0x45);
	assert_int_equal(pkt[9], 17);
	assert_memory_equal(pkt + 20, "\x00\x44\x00\x43", 4);  /* 68 -> 67 */
	/* What we send goes to port 67; a reply comes to 68. */
	assert_int_equal(dhcp4_unframe(pkt, len, true, &in, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port 68"));
	pkt[22] = 0, pkt[23] = 68, pkt[20] = 0, pkt[21] = 67;  /* the UDP checksum still sums the same */
	assert_int_equal(dhcp4_unframe(pkt, len, true, &in, &got, err, sizeof(err)), 0);
	assert_int_equal(got, n);
	assert_memory_equal(in, m, n);
	pkt[100] ^= 1;
	assert_int_equal(dhcp4_unframe(pkt, len, true, &in, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "UDP checksum"));
	assert_int_equal(dhcp4_unframe(pkt, len, false, &in, &got, err, sizeof(err)), 0);
	pkt[6] = 0x20;  /* more fragments */
	assert_int_equal(dhcp4_unframe(pkt, len, false, &in, &got, err, sizeof(err)), -1);
	pkt[6] = 0;
	assert_int_equal(dhcp4_unframe(pkt, 27, false, &in, &got, err, sizeof(err)), -1);
}

/* A server's answer to the client's last request: a reply of type with these options. */
static void answer_xid(struct dhcp4_client *c, uint32_t xid, uint8_t type, uint32_t lease, uint64_t now,
		       struct dhcp4_action *a)
{
	uint8_t opts[] = { 53, 1, type, 51, 4, lease >> 24, lease >> 16, lease >> 8, lease, 54, 4, 10, 0, 0, 1,
			   1, 4, 255, 255, 255, 0, 255 };
	uint8_t p[1024];
	struct dhcp4_reply r;

	assert_int_equal(dhcp4_parse(p, reply(p, xid, (const uint8_t *)"\x0a\x00\x00\x07", opts, sizeof(opts)), &r,
				     err, sizeof(err)), 0);
	dhcp4_input(c, &r, now, a);
}

static void answer(struct dhcp4_client *c, uint8_t type, uint32_t lease, uint64_t now, struct dhcp4_action *a)
{
	answer_xid(c, c->xid, type, lease, now, a);
}

static void test_client_lifecycle(void **state)
{
	struct dhcp4_client c;
	struct dhcp4_action a;
	uint64_t t = 5000;

	(void)state;
	dhcp4_init(&c, mac, "node1", 42, t);
	assert_int_equal(c.next_ms, t);
	dhcp4_tick(&c, t, &a);
	assert_true(a.send && a.broadcast);
	assert_int_equal(a.req.type, DHCP4_DISCOVER);
	assert_int_equal(c.state, DHCP4_SELECTING);
	assert_in_range(c.next_ms - t, 3000, 5000);   /* the first retransmission: 4 s +- 1 */
	t = c.next_ms;
	dhcp4_tick(&c, t, &a);
	assert_in_range(c.next_ms - t, 7000, 9000);   /* then 8 s */

	/* A reply to someone else's exchange changes nothing. */
	answer_xid(&c, c.xid ^ 1, DHCP4_OFFER, 60, t, &a);
	assert_false(a.send);
	assert_int_equal(c.ignored, 1);

	answer(&c, DHCP4_OFFER, 60, t, &a);
	assert_int_equal(c.state, DHCP4_REQUESTING);
	assert_true(a.send && a.broadcast && a.req.has_requested && a.req.has_server);
	assert_memory_equal(a.req.requested, "\x0a\x00\x00\x07", 4);
	answer(&c, DHCP4_ACK, 60, t, &a);
	assert_int_equal(a.event, DHCP4_EV_BOUND);
	assert_int_equal(c.state, DHCP4_BOUND);
	assert_int_equal(c.next_ms, t + 30000);       /* T1 = 30 s of 60 */

	/* T1: renew by unicast, naming the address. No answer: rebind at T2 (52.5 s), broadcast. */
	t += 30000;
	dhcp4_tick(&c, t, &a);
	assert_int_equal(c.state, DHCP4_RENEWING);
	assert_true(a.send && !a.broadcast);
	assert_memory_equal(a.req.ciaddr, "\x0a\x00\x00\x07", 4);
	assert_false(a.req.has_requested);
	while (c.state == DHCP4_RENEWING) {
		assert_true(c.next_ms > t);
		t = c.next_ms;
		dhcp4_tick(&c, t, &a);
	}
	assert_int_equal(c.state, DHCP4_REBINDING);
	assert_int_equal(t, c.bound_ms + 52000);     /* T2: 7/8 of 60 s, in whole seconds */
	assert_true(a.send && a.broadcast);

	/* A renewal in REBINDING keeps the address: RENEWED, timers from now. */
	answer(&c, DHCP4_ACK, 60, t, &a);
	assert_int_equal(a.event, DHCP4_EV_RENEWED);
	assert_int_equal(c.next_ms, t + 30000);

	/* Silence to the end of the lease: LOST, and a new DISCOVER at once. */
	t = c.next_ms;
	dhcp4_tick(&c, t, &a);
	while (a.event != DHCP4_EV_LOST) {
		assert_true(c.next_ms > t && c.next_ms <= c.bound_ms + 60000);
		t = c.next_ms;
		dhcp4_tick(&c, t, &a);
	}
	assert_int_equal(t, c.bound_ms + 60000);
	assert_false(c.has_lease);
	assert_true(a.send && a.req.type == DHCP4_DISCOVER);
}

static void test_client_nak_and_release(void **state)
{
	struct dhcp4_client c;
	struct dhcp4_action a;

	(void)state;
	dhcp4_init(&c, mac, NULL, 7, 0);
	dhcp4_tick(&c, 0, &a);
	answer(&c, DHCP4_OFFER, 60, 10, &a);
	answer(&c, DHCP4_NAK, 60, 20, &a);
	assert_int_equal(c.state, DHCP4_INIT);
	assert_false(a.send);
	assert_int_equal(c.next_ms, 1020);   /* a second later, not at once */
	assert_int_equal(c.naks, 1);

	dhcp4_tick(&c, 1020, &a);
	answer(&c, DHCP4_OFFER, 60, 1030, &a);
	answer(&c, DHCP4_ACK, 60, 1040, &a);
	assert_int_equal(a.event, DHCP4_EV_BOUND);
	/* A NAK of a renewal takes the lease away. */
	dhcp4_tick(&c, c.next_ms, &a);
	answer(&c, DHCP4_NAK, 60, 40000, &a);
	assert_int_equal(a.event, DHCP4_EV_LOST);
	assert_true(a.send && a.req.type == DHCP4_DISCOVER);

	dhcp4_tick(&c, c.next_ms, &a);
	answer(&c, DHCP4_OFFER, 60, 50000, &a);
	answer(&c, DHCP4_ACK, 60, 50010, &a);
	dhcp4_release(&c, &a);
	assert_true(a.send && !a.broadcast);
	assert_int_equal(a.req.type, DHCP4_RELEASE);
	assert_memory_equal(a.req.ciaddr, "\x0a\x00\x00\x07", 4);
	assert_true(a.req.has_server);
	assert_int_equal(c.next_ms, UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover_bytes),     cmocka_unit_test(test_request_names_offer),
		cmocka_unit_test(test_ack_fields),         cmocka_unit_test(test_classless_routes),
		cmocka_unit_test(test_overload_and_split), cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_framing),            cmocka_unit_test(test_client_lifecycle),
		cmocka_unit_test(test_client_nak_and_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * DHCPv6 (netctl/dhcp6.c): a SOLICIT byte for byte as RFC 8415 lays it out, server
 * messages assembled here from the RFC's option layouts (not by our encoder), hostile
 * options, and the client's states on a clock the test moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "netctl/dhcp6.h"

static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t addr[16] = { 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50 };
static char err[256];

static void test_solicit_bytes(void **state)
{
	static const uint8_t want[] = {
		1, 0x12, 0x34, 0x56,                                   /* SOLICIT, xid */
		0, 1, 0, 10, 0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,  /* CLIENTID: DUID-LL */
		0, 3, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0,       /* IA_NA 7, T1 T2 0 */
		0, 8, 0, 2, 0, 150,                                    /* ELAPSED_TIME 1.5 s */
		0, 6, 0, 4, 0, 23, 0, 24,                              /* ORO: DNS, domains */
	};
	uint8_t duid[10], b[1500];
	struct dhcp6_request q = { .type = DHCP6_SOLICIT, .xid = 0x123456, .elapsed_cs = 150, .iaid = 7 };

	(void)state;
	q.duid = duid;
	q.duid_len = dhcp6_duid_ll(duid, mac);
	assert_int_equal(dhcp6_build(b, sizeof(b), &q), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
}

/* A server message: type, xid, CLIENTID (ours), SERVERID, then extra options. */
static size_t server_msg(uint8_t *p, uint8_t type, uint32_t xid, const uint8_t *extra, size_t n)
{
	static const uint8_t ids[] = { 0, 1, 0, 10, 0, 3, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
				       0, 2, 0, 6, 0, 3, 0, 1, 0xaa, 0xbb };
	p[0] = type;
	p[1] = (uint8_t)(xid >> 16), p[2] = (uint8_t)(xid >> 8), p[3] = (uint8_t)xid;
	memcpy(p + 4, ids, sizeof(ids));
	memcpy(p + 4 + sizeof(ids), extra, n);
	return 4 + sizeof(ids) + n;
}

/* IA_NA 7, T1 T2 as given, one IAADDR fd77::50 preferred 100 valid 120. */
#define IA(t1, t2) 0, 3, 0, 40, 0, 0, 0, 7, 0, 0, 0, t1, 0, 0, 0, t2, \
	0, 5, 0, 24, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0, 0, 0, 100, 0, 0, 0, 120

static void test_reply_fields(void **state)
{
	static const uint8_t extra[] = {
		IA(0, 0),
		0, 23, 0, 16, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
		0, 24, 0, 10, 3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0,
	};
	uint8_t p[512];
	struct dhcp6_reply r;

	(void)state;
	assert_int_equal(dhcp6_parse(p, server_msg(p, DHCP6_REPLY, 0x123456, extra, sizeof(extra)), &r, err, sizeof(err)), 0);
	assert_int_equal(r.type, DHCP6_REPLY);
	assert_int_equal(r.xid, 0x123456);
	assert_true(r.has_addr);
	assert_memory_equal(r.lease.addr, addr, 16);
	assert_int_equal(r.lease.preferred_s, 100);
	assert_int_equal(r.lease.valid_s, 120);
	assert_int_equal(r.lease.t1_s, 50);   /* 0 in the message: 0.5 and 0.8 of preferred */
	assert_int_equal(r.lease.t2_s, 80);
	assert_int_equal(r.lease.server_id_len, 6);
	assert_int_equal(r.lease.ndns, 1);
	assert_int_equal(r.lease.dns[0][15], 0x53);
	assert_int_equal(r.lease.nsearch, 1);
	assert_string_equal(r.lease.search[0], "lab.test");
}

static void test_hostile(void **state)
{
	static const uint8_t past_end[] = { 0, 23, 0, 200, 1, 2 };
	static const uint8_t noaddrs[] = { 0, 3, 0, 18, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 0, 2, 0, 2 };
	static const uint8_t bad_names[] = { IA(10, 20), 0, 24, 0, 3, 9, 'a', 'b' };
	uint8_t p[512];
	struct dhcp6_reply r;

	(void)state;
	assert_int_equal(dhcp6_parse(p, server_msg(p, DHCP6_REPLY, 1, past_end, sizeof(past_end)), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "past its end"));
	assert_int_equal(dhcp6_parse(p, server_msg(p, DHCP6_REPLY, 1, noaddrs, sizeof(noaddrs)), &r, err, sizeof(err)), 0);
	assert_false(r.has_addr);
	assert_int_equal(r.ia_status, 2);
	assert_int_equal(dhcp6_parse(p, server_msg(p, DHCP6_REPLY, 1, bad_names, sizeof(bad_names)), &r, err, sizeof(err)), 0);
	assert_int_equal(r.lease.nsearch, 0);
	assert_int_equal(r.lease.t1_s, 10);
	p[0] = DHCP6_SOLICIT;
	assert_int_equal(dhcp6_parse(p, 40, &r, err, sizeof(err)), -1);
	assert_int_equal(dhcp6_parse(p, 3, &r, err, sizeof(err)), -1);
	/* No server identifier: refused. */
	p[0] = DHCP6_REPLY;
	assert_int_equal(dhcp6_parse(p, 18, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "server identifier"));
}

static void answer(struct dhcp6_client *c, uint8_t type, const uint8_t *extra, size_t n, uint64_t now,
		   struct dhcp6_action *a)
{
	uint8_t p[512];
	struct dhcp6_reply r;

	assert_int_equal(dhcp6_parse(p, server_msg(p, type, c->xid, extra, n), &r, err, sizeof(err)), 0);
	dhcp6_input(c, &r, now, a);
}

static void test_client_lifecycle(void **state)
{
	static const uint8_t ia[] = { IA(0, 0) };
	static const uint8_t refused[] = { 0, 13, 0, 2, 0, 3 };  /* NoBinding */
	struct dhcp6_client c;
	struct dhcp6_action a;
	uint64_t t = 1000;

	(void)state;
	dhcp6_init(&c, mac, 7, 42, t);
	dhcp6_tick(&c, t, &a);
	assert_true(a.send && a.req.type == DHCP6_SOLICIT);
	assert_in_range(c.next_ms - t, 900, 1100);   /* IRT 1 s +- 10% */
	t = c.next_ms;
	dhcp6_tick(&c, t, &a);
	assert_in_range(c.next_ms - t, 1800, 2200);  /* doubled */
	answer(&c, DHCP6_ADVERTISE, ia, sizeof(ia), t, &a);
	assert_int_equal(c.state, DHCP6_REQUESTING);
	assert_true(a.send && a.req.type == DHCP6_REQUEST && a.req.server_id_len == 6);
	assert_memory_equal(a.req.addr, addr, 16);
	answer(&c, DHCP6_REPLY, ia, sizeof(ia), t, &a);
	assert_int_equal(a.event, DHCP6_EV_BOUND);
	assert_int_equal(c.next_ms, t + 50000);
	/* T1: RENEW names the server; no answer until T2 (80 s): REBIND names none. */
	t += 50000;
	dhcp6_tick(&c, t, &a);
	assert_true(a.send && a.req.type == DHCP6_RENEW && a.req.server_id);
	while (c.state == DHCP6_RENEWING) {
		t = c.next_ms;
		dhcp6_tick(&c, t, &a);
	}
	assert_int_equal(c.state, DHCP6_REBINDING);
	assert_int_equal(t, c.bound_ms + 80000);
	assert_true(a.req.type == DHCP6_REBIND && !a.req.server_id);
	/* A refusal takes the address away and starts over. */
	answer(&c, DHCP6_REPLY, refused, sizeof(refused), t, &a);
	assert_int_equal(a.event, DHCP6_EV_LOST);
	assert_true(a.send && a.req.type == DHCP6_SOLICIT);
	assert_false(c.has_lease);
}

static void test_client_expiry_and_release(void **state)
{
	static const uint8_t ia[] = { IA(0, 0) };
	struct dhcp6_client c;
	struct dhcp6_action a;
	uint64_t t = 0;

	(void)state;
	dhcp6_init(&c, mac, 7, 9, t);
	dhcp6_tick(&c, t, &a);
	answer(&c, DHCP6_ADVERTISE, ia, sizeof(ia), t, &a);
	answer(&c, DHCP6_REPLY, ia, sizeof(ia), t, &a);
	while (a.event != DHCP6_EV_LOST) {
		assert_true(c.next_ms > t && c.next_ms <= 120000);
		t = c.next_ms;
		dhcp6_tick(&c, t, &a);
	}
	assert_int_equal(t, 120000);  /* the valid lifetime */
	dhcp6_tick(&c, c.next_ms, &a);
	answer(&c, DHCP6_ADVERTISE, ia, sizeof(ia), t, &a);
	answer(&c, DHCP6_REPLY, ia, sizeof(ia), t, &a);
	dhcp6_release(&c, &a);
	assert_true(a.send && a.req.type == DHCP6_RELEASE && a.req.server_id && a.req.addr);
	assert_int_equal(c.next_ms, UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_solicit_bytes),    cmocka_unit_test(test_reply_fields),
		cmocka_unit_test(test_hostile),          cmocka_unit_test(test_client_lifecycle),
		cmocka_unit_test(test_client_expiry_and_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* WireGuard's generic netlink messages as the kernel backend builds and reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netctl/wg.h"

#define FAMILY 0x1d

/* A device with every field a set carries and n peers, peer i with 1 + i allowed IPs. */
static void device(struct wg_device *d, size_t n)
{
	wg_device_init(d, "wgt0");
	d->flags = WGD_PRIVATE_KEY | WGD_LISTEN_PORT | WGD_FWMARK | WGD_REPLACE_PEERS;
	memset(d->priv, 0x11, WG_KEY_LEN);
	d->port = 51820;
	d->fwmark = 0x51820;
	for (size_t i = 0; i < n; i++) {
		uint8_t k[WG_KEY_LEN];
		struct wg_peer *p;

		memset(k, 0x20 + (int)i, WG_KEY_LEN);
		p = wg_device_add_peer(d, k);
		assert_non_null(p);
		p->flags = WGP_ENDPOINT | WGP_KEEPALIVE | (i % 2 ? WGP_PRESHARED_KEY : 0);
		memset(p->psk, 0x40 + (int)i, WG_KEY_LEN);
		p->keepalive = (uint16_t)(25 + i);
		p->ep.family = i % 2 ? 6 : 4;
		p->ep.a[0] = 10;
		p->ep.a[3] = (uint8_t)i;
		p->ep.port = (uint16_t)(51820 + i);
		for (size_t j = 0; j <= i && j < WG_PEER_IPS_MAX; j++) {
			struct wg_ip *ip = &p->ips[p->nips++];

			ip->family = j % 2 ? 6 : 4;
			ip->a[0] = 0xfd;
			ip->a[1] = (uint8_t)j;
			ip->cidr = j % 2 ? 64 : 24;
		}
	}
}

/* Whether the message's top level carries attribute type t. */
static bool has_attr(const uint8_t *msg, size_t len, uint16_t t)
{
	for (size_t off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= len;) {
		const struct nlattr *a = (const struct nlattr *)(msg + off);

		if (a->nla_len < NLA_HDRLEN)
			return false;
		if ((a->nla_type & NLA_TYPE_MASK) == t)
			return true;
		off += NLA_ALIGN(a->nla_len);
	}
	return false;
}

static void same(const struct wg_device *a, const struct wg_device *b)
{
	assert_string_equal(a->name, b->name);
	assert_memory_equal(a->priv, b->priv, WG_KEY_LEN);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->fwmark, b->fwmark);
	assert_int_equal(a->npeers, b->npeers);
	for (size_t i = 0; i < a->npeers; i++) {
		const struct wg_peer *p = &a->peers[i], *q = &b->peers[i];

		assert_memory_equal(p->pub, q->pub, WG_KEY_LEN);
		assert_int_equal(p->flags & (WGP_ENDPOINT | WGP_KEEPALIVE | WGP_PRESHARED_KEY),
				 q->flags & (WGP_ENDPOINT | WGP_KEEPALIVE | WGP_PRESHARED_KEY));
		if (p->flags & WGP_PRESHARED_KEY)
			assert_memory_equal(p->psk, q->psk, WG_KEY_LEN);
		assert_int_equal(p->keepalive, q->keepalive);
		assert_int_equal(p->ep.family, q->ep.family);
		assert_memory_equal(p->ep.a, q->ep.a, 16);
		assert_int_equal(p->ep.port, q->ep.port);
		assert_int_equal(p->nips, q->nips);
		for (size_t j = 0; j < p->nips; j++) {
			assert_int_equal(p->ips[j].family, q->ips[j].family);
			assert_memory_equal(p->ips[j].a, q->ips[j].a, 16);
			assert_int_equal(p->ips[j].cidr, q->ips[j].cidr);
		}
	}
}

/* Formats d into messages of cap bytes, parses them back into out; the number of messages. */
static size_t round_trip(const struct wg_device *d, size_t cap, struct wg_device *out)
{
	uint8_t *buf = malloc(cap);
	size_t next = 0, len, n = 0;
	char err[256];

	assert_non_null(buf);
	wg_device_init(out, NULL);
	do {
		assert_int_equal(wg_genl_format_set(d, FAMILY, &next, buf, cap, &len), 0);
		assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_len, len);
		assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_type, FAMILY);
		assert_int_equal(((struct genlmsghdr *)(buf + NLMSG_HDRLEN))->cmd, WG_CMD_SET_DEVICE);
		/* The device's own fields and REPLACE_PEERS in the first message only. */
		assert_int_equal(has_attr(buf, len, WGDEVICE_A_FLAGS), n == 0);
		assert_int_equal(has_attr(buf, len, WGDEVICE_A_PRIVATE_KEY), n == 0);
		assert_true(has_attr(buf, len, WGDEVICE_A_IFNAME));
		if (wg_genl_parse(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN, out, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		n++;
	} while (next < d->npeers);
	free(buf);
	return n;
}

/* One message when it fits; split between peers when it does not, and read back whole. */
static void test_set_round_trip_and_split(void **state)
{
	struct wg_device d, b;

	(void)state;
	device(&d, 5);
	assert_int_equal(round_trip(&d, 32 << 10, &b), 1);
	same(&d, &b);
	wg_device_fini(&b);
	assert_true(round_trip(&d, 300, &b) >= 3);
	same(&d, &b);
	wg_device_fini(&b);
	wg_device_fini(&d);
}

/* A peer that fits no message is refused, not cut; a buffer too small for the header too. */
static void test_set_limits(void **state)
{
	struct wg_device d;
	uint8_t buf[200];
	size_t next = 0, len;

	(void)state;
	device(&d, 3);
	assert_int_equal(wg_genl_format_set(&d, FAMILY, &next, buf, 40, &len), -ENOSPC);
	next = 0;
	assert_int_equal(wg_genl_format_set(&d, FAMILY, &next, buf, sizeof(buf), &len), 0);
	assert_int_equal(wg_genl_format_set(&d, FAMILY, &next, buf, sizeof(buf), &len), -E2BIG);
	wg_device_fini(&d);
}

/* A removed peer carries its key and WGPEER_F_REMOVE_ME and nothing else. */
static void test_remove_peer(void **state)
{
	struct wg_device d, b;
	uint8_t k[WG_KEY_LEN], buf[512];
	size_t next = 0, len;
	struct wg_peer *p;
	char err[128];

	(void)state;
	wg_device_init(&d, "wgt0");
	memset(k, 0x77, sizeof(k));
	p = wg_device_add_peer(&d, k);
	p->flags = WGP_REMOVE | WGP_ENDPOINT;
	p->ep.family = 4;
	assert_int_equal(wg_genl_format_set(&d, FAMILY, &next, buf, sizeof(buf), &len), 0);
	assert_false(has_attr(buf, len, WGDEVICE_A_PRIVATE_KEY));
	wg_device_init(&b, NULL);
	assert_int_equal(wg_genl_parse(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN, &b, err, sizeof(err)), 0);
	assert_int_equal(b.npeers, 1);
	assert_int_equal(b.peers[0].flags & WGP_ENDPOINT, 0);  /* the endpoint was left out */
	wg_device_fini(&b);
	wg_device_fini(&d);
}

/* A dump that splits a peer's allowed IPs over two messages: read as one peer. */
static void test_dump_continues_a_peer(void **state)
{
	struct wg_device d, half1, half2, b;
	uint8_t buf[4096];
	size_t next = 0, len;
	char err[128];

	(void)state;
	device(&d, 4);                 /* peer 3 has 4 allowed IPs */
	wg_device_init(&half1, "wgt0");
	wg_device_init(&half2, "wgt0");
	for (int h = 0; h < 2; h++) {
		struct wg_device *x = h ? &half2 : &half1;
		struct wg_peer *p = wg_device_add_peer(x, d.peers[3].pub);

		p->nips = 2;
		memcpy(p->ips, &d.peers[3].ips[2 * h], 2 * sizeof(p->ips[0]));
	}
	wg_device_init(&b, NULL);
	assert_int_equal(wg_genl_format_set(&half1, FAMILY, &next, buf, sizeof(buf), &len), 0);
	assert_int_equal(wg_genl_parse(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN, &b, err, sizeof(err)), 0);
	next = 0;
	assert_int_equal(wg_genl_format_set(&half2, FAMILY, &next, buf, sizeof(buf), &len), 0);
	assert_int_equal(wg_genl_parse(buf + NLMSG_HDRLEN, len - NLMSG_HDRLEN, &b, err, sizeof(err)), 0);
	assert_int_equal(b.npeers, 1);
	assert_int_equal(b.peers[0].nips, 4);
	assert_memory_equal(b.peers[0].ips, d.peers[3].ips, 4 * sizeof(d.peers[3].ips[0]));
	wg_device_fini(&b);
	wg_device_fini(&half1);
	wg_device_fini(&half2);
	wg_device_fini(&d);
}

/* Attributes of the wrong size are refused naming what was wrong. */
static void test_parse_refusals(void **state)
{
	/* genlmsghdr, then PEERS { peer { PUBLIC_KEY of 3 bytes } } */
	static const uint8_t short_key[] = { WG_CMD_GET_DEVICE, 1, 0, 0, 16, 0, WGDEVICE_A_PEERS, 0x80,
					     12, 0, 0x00, 0x80, 7, 0, WGPEER_A_PUBLIC_KEY, 0, 1, 2, 3, 0 };
	/* genlmsghdr, then LISTEN_PORT of 4 bytes */
	static const uint8_t long_port[] = { WG_CMD_GET_DEVICE, 1, 0, 0, 8, 0, WGDEVICE_A_LISTEN_PORT, 0, 1, 2, 3, 4 };
	struct wg_device d;
	char err[128];

	(void)state;
	wg_device_init(&d, NULL);
	assert_int_equal(wg_genl_parse(short_key, sizeof(short_key), &d, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "a peer without a 32-byte public key");
	assert_int_equal(wg_genl_parse(long_port, sizeof(long_port), &d, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "a listen port of 4 bytes");
	assert_int_equal(wg_genl_parse(long_port, 3, &d, err, sizeof(err)), -EBADMSG);
	wg_device_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_round_trip_and_split), cmocka_unit_test(test_set_limits),
		cmocka_unit_test(test_remove_peer),              cmocka_unit_test(test_dump_continues_a_peer),
		cmocka_unit_test(test_parse_refusals),
	};

	return cmocka_run_group_tests_name("wggenl", tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Affiliates sealed and opened as Talos's discovery client does, WireGuard keys, mesh addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/affiliate.h"
#include "lib/wgkey.h"

#include "api/affiliate.pb-c.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void key_0_31(uint8_t key[32])
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
}

/* RFC 7748 6.1: Alice's and Bob's keys. */
static void test_x25519_rfc7748(void **state)
{
	uint8_t priv[32], pub[32], want[32];

	(void)state;
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv, 32);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want, 32);
	assert_int_equal(wgkey_public(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", priv, 32);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want, 32);
	assert_int_equal(wgkey_public(priv, pub), 0);
	assert_memory_equal(pub, want, 32);
}

static void test_key_forms(void **state)
{
	uint8_t k[32], back[32];
	char b64[WGKEY_B64_LEN + 1], hex[WGKEY_HEX_LEN + 1];

	(void)state;
	assert_int_equal(wgkey_generate(k), 0);
	assert_int_equal(k[0] & 7, 0);
	assert_int_equal(k[31] & 0xc0, 0x40);
	wgkey_b64(k, b64);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(wgkey_from_b64(b64, back), 0);
	assert_memory_equal(k, back, 32);
	wgkey_hex(k, hex);
	assert_int_equal(wgkey_from_hex(hex, strlen(hex), back), 0);
	assert_memory_equal(k, back, 32);
	assert_int_equal(wgkey_from_b64("AAAA", back), -EINVAL);
	b64[10] = '*';
	assert_int_equal(wgkey_from_b64(b64, back), -EINVAL);
	hex[5] = 'g';
	assert_int_equal(wgkey_from_hex(hex, strlen(hex), back), -EINVAL);
	assert_int_equal(wgkey_from_hex(hex, 62, back), -EINVAL);
}

/* Talos's KubeSpan prefix for a cluster id: fd, bytes 17..22 of sha256(id), 0x02. */
static void test_mesh_prefix(void **state)
{
	uint8_t p[16], want[8], pub[32] = { 1 }, a[16], b[16];

	(void)state;
	unhex("fdf4504b76580402", want, 8); /* sha256("test-cluster"), computed with Python's hashlib */
	wgkey_mesh_prefix("test-cluster", p);
	assert_memory_equal(p, want, 8);
	for (int i = 8; i < 16; i++)
		assert_int_equal(p[i], 0);
	wgkey_mesh_addr("test-cluster", pub, a);
	assert_memory_equal(a, want, 8);
	pub[0] = 2;
	wgkey_mesh_addr("test-cluster", pub, b);
	assert_memory_not_equal(a + 8, b + 8, 8);
}

/* Blobs sealed by Node.js's crypto (aes-256-gcm and aes-256-ecb, key 00..1f): an independent
 * implementation of the same form opens here. */
static void test_open_node_sealed(void **state)
{
	uint8_t key[32], blob[41], plain[64], eb[16];
	size_t n = 0;
	struct aff_info info;
	struct aff_ep ep;
	char why[128], s[64];

	(void)state;
	key_0_31(key);
	unhex("000102030405060708090a0b4d00b82ad7e1c81b8d408d8ad92cfe02a69dd820f4f52d314eb5e85e69", blob, 41);
	assert_int_equal(aff_open(key, blob, 41, plain, sizeof(plain), &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(aff_decode(plain, n, &info, why, sizeof(why)), 0);
	assert_string_equal(info.node_id, "n1");
	assert_string_equal(info.hostname, "h");
	assert_int_equal(info.naddrs, 1);
	assert_string_equal(aff_ip_str(&info.addrs[0], s, sizeof(s)), "10.0.0.1");
	assert_false(info.kubespan);

	unhex("4a4ee66837a157ebb67eaa2de85dd82e", eb, 16);
	assert_int_equal(aff_ep_open(key, eb, 16, &ep), 0);
	assert_string_equal(aff_ep_str(&ep, s, sizeof(s)), "10.0.0.1:51820");
	/* and sealing it here gives Node's blob byte for byte (what lets a registry merge them) */
	uint8_t mine[AFF_EP_BLOB_MAX];
	assert_int_equal(aff_ep_seal(key, &ep, mine, &n), 0);
	assert_int_equal(n, 16);
	assert_memory_equal(mine, eb, 16);
}

static void test_seal_open(void **state)
{
	uint8_t key[32], other[32], blob[AFF_DATA_MAX], plain[AFF_DATA_MAX], msg[100];
	size_t n = 0, m = 0;

	(void)state;
	key_0_31(key);
	memcpy(other, key, 32);
	other[0] ^= 1;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	assert_int_equal(aff_seal(key, msg, sizeof(msg), blob, sizeof(blob), &n), 0);
	assert_int_equal(n, sizeof(msg) + 28);
	assert_int_equal(aff_open(key, blob, n, plain, sizeof(plain), &m), 0);
	assert_int_equal(m, sizeof(msg));
	assert_memory_equal(plain, msg, sizeof(msg));
	assert_int_equal(aff_open(other, blob, n, plain, sizeof(plain), &m), -EBADMSG);
	blob[20] ^= 0x80;
	assert_int_equal(aff_open(key, blob, n, plain, sizeof(plain), &m), -EBADMSG);
	assert_int_equal(aff_open(key, blob, 27, plain, sizeof(plain), &m), -EBADMSG);
	/* two seals of one message differ (fresh nonces) */
	uint8_t b2[AFF_DATA_MAX];
	size_t n2 = 0;
	blob[20] ^= 0x80;
	assert_int_equal(aff_seal(key, msg, sizeof(msg), b2, sizeof(b2), &n2), 0);
	assert_memory_not_equal(blob, b2, 12);
	assert_int_equal(aff_seal(key, msg, AFF_PLAIN_MAX + 1, blob, sizeof(blob), &n), -ENOSPC);
}

static void test_endpoint_v6(void **state)
{
	uint8_t key[32], blob[AFF_EP_BLOB_MAX], again[AFF_EP_BLOB_MAX];
	struct aff_ep ep = { .ip = { .family = 6, .a = { 0xfd, 0, [15] = 1 } }, .port = 443 }, back;
	size_t n = 0, n2 = 0;
	char s[64];

	(void)state;
	key_0_31(key);
	assert_int_equal(aff_ep_seal(key, &ep, blob, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(aff_ep_seal(key, &ep, again, &n2), 0);
	assert_memory_equal(blob, again, 32);
	assert_int_equal(aff_ep_open(key, blob, n, &back), 0);
	assert_string_equal(aff_ep_str(&back, s, sizeof(s)), "[fd00::1]:443");
	assert_int_equal(aff_ep_open(key, blob, 17, &back), -EBADMSG);
	assert_int_equal(aff_ep_open(key, blob, 0, &back), -EBADMSG);
	ep.ip.family = 5;
	assert_int_equal(aff_ep_seal(key, &ep, blob, &n), -EINVAL);
}

static void test_roundtrip_full(void **state)
{
	struct aff_info in, out;
	uint8_t buf[AFF_PLAIN_MAX];
	size_t n = 0;
	char why[128];

	(void)state;
	memset(&in, 0, sizeof(in));
	strcpy(in.node_id, "7x0c9Xk3");
	strcpy(in.hostname, "cp-1.example");
	strcpy(in.nodename, "cp-1");
	strcpy(in.machine_type, "controlplane");
	strcpy(in.os, "Basalt (v0.1.0)");
	in.naddrs = 2;
	in.addrs[0] = (struct aff_ip){ .family = 4, .a = { 192, 168, 1, 5 } };
	in.addrs[1] = (struct aff_ip){ .family = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 } };
	in.kubespan = true;
	for (int i = 0; i < 32; i++)
		in.wg_pub[i] = (uint8_t)(200 - i);
	in.mesh_addr[0] = 0xfd;
	in.mesh_addr[15] = 9;
	in.nprefixes = 1;
	in.prefixes[0] = (struct aff_prefix){ { 4, { 10, 244, 1, 0 } }, 24 };
	in.exclude_advertised = true;
	in.api_server_port = 6443;
	assert_int_equal(aff_encode(&in, buf, sizeof(buf), &n), 0);
	assert_int_equal(aff_decode(buf, n, &out, why, sizeof(why)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* Each invalid field is named; nothing of a refused affiliate is left in info. */
static void expect_refused(const uint8_t *buf, size_t n, const char *field)
{
	struct aff_info out;
	char why[160];

	memset(&out, 0x55, sizeof(out));
	assert_int_equal(aff_decode(buf, n, &out, why, sizeof(why)), -EBADMSG);
	if (!strstr(why, field))
		fail_msg("why '%s' does not name %s", why, field);
	assert_int_equal(out.node_id[0], 0);
}

static void test_decode_refuses(void **state)
{
	Sidero__Discovery__Client__Affiliate m = SIDERO__DISCOVERY__CLIENT__AFFILIATE__INIT;
	Sidero__Discovery__Client__KubeSpan ks = SIDERO__DISCOVERY__CLIENT__KUBE_SPAN__INIT;
	Sidero__Discovery__Client__IPPrefix p = SIDERO__DISCOVERY__CLIENT__IPPREFIX__INIT, *pp = &p;
	uint8_t ip5[5] = { 1, 2, 3, 4, 5 }, ip4[4] = { 10, 0, 0, 0 }, a16[16] = { 0xfd };
	ProtobufCBinaryData bad = { 5, ip5 };
	uint8_t buf[1024];
	size_t n;

	(void)state;
	m.node_id = "n";
	m.n_addresses = 1;
	m.addresses = &bad;
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	expect_refused(buf, n, "addresses[0]");

	m.n_addresses = 0;
	m.hostname = "evil\nname";
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	expect_refused(buf, n, "hostname");

	m.hostname = "ok";
	m.kubespan = &ks;
	ks.public_key = "not-a-key";
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	expect_refused(buf, n, "kubespan.public_key");

	ks.public_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	ks.has_address = true;
	ks.address = (ProtobufCBinaryData){ 4, ip4 };
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	expect_refused(buf, n, "kubespan.address");

	ks.address = (ProtobufCBinaryData){ 16, a16 };
	p.has_ip = true;
	p.ip = (ProtobufCBinaryData){ 4, ip4 };
	p.has_bits = true;
	p.bits = 33;
	ks.n_additional_addresses = 1;
	ks.additional_addresses = &pp;
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	expect_refused(buf, n, "additional_addresses[0]");

	p.bits = 8;
	n = sidero__discovery__client__affiliate__pack(&m, buf);
	struct aff_info out;
	char why[128];
	assert_int_equal(aff_decode(buf, n, &out, why, sizeof(why)), 0);
	assert_true(out.kubespan);
	assert_int_equal(out.prefixes[0].bits, 8);

	buf[0] = 0xff; /* not protobuf */
	expect_refused(buf, 3, "not an Affiliate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x25519_rfc7748),  cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_mesh_prefix),     cmocka_unit_test(test_open_node_sealed),
		cmocka_unit_test(test_seal_open),       cmocka_unit_test(test_endpoint_v6),
		cmocka_unit_test(test_roundtrip_full),  cmocka_unit_test(test_decode_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

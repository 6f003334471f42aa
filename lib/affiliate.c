// SPDX-License-Identifier: MIT
/* Affiliates sealed and opened under the cluster secret, and validated (see affiliate.h). */
#include "lib/affiliate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "api/affiliate.pb-c.h"
#include "lib/rng.h"
#include "lib/wgkey.h"

int aff_seal(const uint8_t key[AFF_KEY_LEN], const uint8_t *plain, size_t n, uint8_t *out, size_t cap,
	     size_t *outlen)
{
	mbedtls_gcm_context gcm;
	int rc = -EIO;

	if (n > AFF_PLAIN_MAX || cap < n + AFF_NONCE_LEN + AFF_TAG_LEN)
		return -ENOSPC;
	if (rng_random(rng_ctx(), out, AFF_NONCE_LEN) != 0)
		return -EIO;
	mbedtls_gcm_init(&gcm);
	if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0 &&
	    mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, out, AFF_NONCE_LEN, NULL, 0, plain,
				      out + AFF_NONCE_LEN, AFF_TAG_LEN, out + AFF_NONCE_LEN + n) == 0) {
		*outlen = n + AFF_NONCE_LEN + AFF_TAG_LEN;
		rc = 0;
	}
	mbedtls_gcm_free(&gcm);
	return rc;
}

int aff_open(const uint8_t key[AFF_KEY_LEN], const uint8_t *blob, size_t n, uint8_t *out, size_t cap,
	     size_t *outlen)
{
	mbedtls_gcm_context gcm;
	size_t plen;
	int rc = -EBADMSG;

	if (n < AFF_NONCE_LEN + AFF_TAG_LEN || n > AFF_DATA_MAX)
		return -EBADMSG;
	plen = n - AFF_NONCE_LEN - AFF_TAG_LEN;
	if (cap < plen)
		return -ENOSPC;
	mbedtls_gcm_init(&gcm);
	if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0 &&
	    mbedtls_gcm_auth_decrypt(&gcm, plen, blob, AFF_NONCE_LEN, NULL, 0, blob + n - AFF_TAG_LEN, AFF_TAG_LEN,
				     blob + AFF_NONCE_LEN, out) == 0) {
		*outlen = plen;
		rc = 0;
	} else {
		mbedtls_platform_zeroize(out, plen);
	}
	mbedtls_gcm_free(&gcm);
	return rc;
}

/* Each 16-byte block alone: the same endpoint is the same blob under one key. */
static int ecb(const uint8_t key[AFF_KEY_LEN], int mode, const uint8_t *in, uint8_t *out, size_t n)
{
	mbedtls_aes_context aes;
	int rc = 0;

	mbedtls_aes_init(&aes);
	rc = mode == MBEDTLS_AES_ENCRYPT ? mbedtls_aes_setkey_enc(&aes, key, 256) : mbedtls_aes_setkey_dec(&aes, key, 256);
	for (size_t i = 0; rc == 0 && i < n; i += 16)
		rc = mbedtls_aes_crypt_ecb(&aes, mode, in + i, out + i);
	mbedtls_aes_free(&aes);
	return rc == 0 ? 0 : -EIO;
}

static size_t ip_len(const struct aff_ip *ip)
{
	return ip->family == 4 ? 4 : 16;
}

int aff_ep_seal(const uint8_t key[AFF_KEY_LEN], const struct aff_ep *ep, uint8_t *out, size_t *outlen)
{
	Sidero__Discovery__Client__Endpoint m = SIDERO__DISCOVERY__CLIENT__ENDPOINT__INIT;
	uint8_t plain[AFF_EP_BLOB_MAX] = { 0 };
	size_t n, total;
	int rc;

	if (ep->ip.family != 4 && ep->ip.family != 6)
		return -EINVAL;
	m.has_ip = true;
	m.ip.data = (uint8_t *)ep->ip.a;
	m.ip.len = ip_len(&ep->ip);
	m.has_port = ep->port != 0;
	m.port = ep->port;
	n = sidero__discovery__client__endpoint__get_packed_size(&m);
	if (n + 1 > sizeof(plain))
		return -EINVAL;
	plain[0] = (uint8_t)n;
	sidero__discovery__client__endpoint__pack(&m, plain + 1);
	total = (n + 1 + 15) / 16 * 16;
	rc = ecb(key, MBEDTLS_AES_ENCRYPT, plain, out, total);
	if (rc == 0)
		*outlen = total;
	return rc;
}

static int set_ip(struct aff_ip *ip, const ProtobufCBinaryData *b)
{
	memset(ip, 0, sizeof(*ip));
	if (b->len != 4 && b->len != 16)
		return -EBADMSG;
	ip->family = b->len == 4 ? 4 : 6;
	memcpy(ip->a, b->data, b->len);
	return 0;
}

int aff_ep_open(const uint8_t key[AFF_KEY_LEN], const uint8_t *blob, size_t n, struct aff_ep *ep)
{
	Sidero__Discovery__Client__Endpoint *m;
	uint8_t plain[AFF_EP_BLOB_MAX];
	int rc = -EBADMSG;

	if (n == 0 || n % 16 != 0 || n > sizeof(plain))
		return -EBADMSG;
	if (ecb(key, MBEDTLS_AES_DECRYPT, blob, plain, n) != 0)
		return -EIO;
	if ((size_t)plain[0] + 1 > n)
		return -EBADMSG;
	m = sidero__discovery__client__endpoint__unpack(NULL, plain[0], plain + 1);
	if (!m)
		return -EBADMSG;
	memset(ep, 0, sizeof(*ep));
	if (m->has_ip && set_ip(&ep->ip, &m->ip) == 0 && m->has_port && m->port > 0 && m->port <= 65535) {
		ep->port = (uint16_t)m->port;
		rc = 0;
	}
	sidero__discovery__client__endpoint__free_unpacked(m, NULL);
	return rc;
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* A name-like string: printable ASCII or UTF-8 bytes, no controls, within cap. */
static int copy_str(char *dst, size_t cap, const char *src, const char *field, char *why, size_t whylen)
{
	size_t n;

	dst[0] = '\0';
	if (!src)
		return 0;
	n = strlen(src);
	if (n >= cap)
		return fail(why, whylen, "%s: %zu bytes, at most %zu", field, n, cap - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c < 0x20 || c == 0x7f)
			return fail(why, whylen, "%s: a control character at byte %zu", field, i);
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static int decode_kubespan(const Sidero__Discovery__Client__KubeSpan *k, struct aff_info *info, char *why,
			   size_t whylen)
{
	ProtobufCBinaryData a = k->has_address ? k->address : (ProtobufCBinaryData){ 0, NULL };
	if (!k->public_key || wgkey_from_b64(k->public_key, info->wg_pub) != 0)
		return fail(why, whylen, "kubespan.public_key: not a base64 WireGuard key");
	if (a.len != 16)
		return fail(why, whylen, "kubespan.address: %zu bytes, an IPv6 address is 16", a.len);
	memcpy(info->mesh_addr, a.data, 16);
	if (k->n_additional_addresses > AFF_PREFIXES_MAX)
		return fail(why, whylen, "kubespan.additional_addresses: %zu, at most %d", k->n_additional_addresses,
			    AFF_PREFIXES_MAX);
	for (size_t i = 0; i < k->n_additional_addresses; i++) {
		const Sidero__Discovery__Client__IPPrefix *p = k->additional_addresses[i];
		struct aff_prefix *o = &info->prefixes[i];

		if (!p->has_ip || set_ip(&o->ip, &p->ip) != 0)
			return fail(why, whylen, "kubespan.additional_addresses[%zu]: not an IPv4 or IPv6 address", i);
		if (p->bits > (o->ip.family == 4 ? 32u : 128u))
			return fail(why, whylen, "kubespan.additional_addresses[%zu]: /%u is longer than the address", i,
				    p->bits);
		o->bits = (uint8_t)p->bits;
	}
	info->nprefixes = k->n_additional_addresses;
	info->exclude_advertised = k->has_exclude_advertised_networks && k->exclude_advertised_networks;
	info->kubespan = true;
	return 0;
}

int aff_decode(const uint8_t *msg, size_t n, struct aff_info *info, char *why, size_t whylen)
{
	Sidero__Discovery__Client__Affiliate *m;
	int rc = -EBADMSG;

	memset(info, 0, sizeof(*info));
	if (n > AFF_PLAIN_MAX)
		return fail(why, whylen, "%zu bytes, at most %d", n, AFF_PLAIN_MAX);
	m = sidero__discovery__client__affiliate__unpack(NULL, n, msg);
	if (!m)
		return fail(why, whylen, "not an Affiliate message");
	if (copy_str(info->node_id, sizeof(info->node_id), m->node_id, "node_id", why, whylen) != 0 ||
	    copy_str(info->hostname, sizeof(info->hostname), m->hostname, "hostname", why, whylen) != 0 ||
	    copy_str(info->nodename, sizeof(info->nodename), m->nodename, "nodename", why, whylen) != 0 ||
	    copy_str(info->machine_type, sizeof(info->machine_type), m->machine_type, "machine_type", why,
		     whylen) != 0 ||
	    copy_str(info->os, sizeof(info->os), m->operating_system, "operating_system", why, whylen) != 0)
		goto out;
	if (m->n_addresses > AFF_ADDRS_MAX) {
		fail(why, whylen, "addresses: %zu, at most %d", m->n_addresses, AFF_ADDRS_MAX);
		goto out;
	}
	for (size_t i = 0; i < m->n_addresses; i++)
		if (set_ip(&info->addrs[i], &m->addresses[i]) != 0) {
			fail(why, whylen, "addresses[%zu]: %zu bytes, an address is 4 or 16", i, m->addresses[i].len);
			goto out;
		}
	info->naddrs = m->n_addresses;
	if (m->kubespan && decode_kubespan(m->kubespan, info, why, whylen) != 0)
		goto out;
	if (m->control_plane && m->control_plane->has_api_server_port) {
		if (m->control_plane->api_server_port == 0 || m->control_plane->api_server_port > 65535) {
			fail(why, whylen, "control_plane.api_server_port: %u is not a port", m->control_plane->api_server_port);
			goto out;
		}
		info->api_server_port = (uint16_t)m->control_plane->api_server_port;
	}
	rc = 0;
out:
	sidero__discovery__client__affiliate__free_unpacked(m, NULL);
	if (rc != 0)
		memset(info, 0, sizeof(*info));
	return rc;
}

/* Absent rather than empty, as a proto3 encoder leaves it. */
static char *nz(const char *s)
{
	return s[0] ? (char *)s : NULL;
}

static ProtobufCBinaryData ip_bytes(const struct aff_ip *ip)
{
	return (ProtobufCBinaryData){ ip_len(ip), (uint8_t *)ip->a };
}

int aff_encode(const struct aff_info *info, uint8_t *out, size_t cap, size_t *outlen)
{
	Sidero__Discovery__Client__Affiliate m = SIDERO__DISCOVERY__CLIENT__AFFILIATE__INIT;
	Sidero__Discovery__Client__KubeSpan ks = SIDERO__DISCOVERY__CLIENT__KUBE_SPAN__INIT;
	Sidero__Discovery__Client__ControlPlane cp = SIDERO__DISCOVERY__CLIENT__CONTROL_PLANE__INIT;
	Sidero__Discovery__Client__IPPrefix pfx[AFF_PREFIXES_MAX], *ppfx[AFF_PREFIXES_MAX];
	ProtobufCBinaryData addrs[AFF_ADDRS_MAX];
	char pub[WGKEY_B64_LEN + 1];
	size_t n;

	if (info->naddrs > AFF_ADDRS_MAX || info->nprefixes > AFF_PREFIXES_MAX)
		return -EINVAL;
	m.node_id = nz(info->node_id);
	m.hostname = nz(info->hostname);
	m.nodename = nz(info->nodename);
	m.machine_type = nz(info->machine_type);
	m.operating_system = nz(info->os);
	for (size_t i = 0; i < info->naddrs; i++)
		addrs[i] = ip_bytes(&info->addrs[i]);
	m.n_addresses = info->naddrs;
	m.addresses = addrs;
	if (info->kubespan) {
		wgkey_b64(info->wg_pub, pub);
		ks.public_key = pub;
		ks.has_address = true;
		ks.address = (ProtobufCBinaryData){ 16, (uint8_t *)info->mesh_addr };
		for (size_t i = 0; i < info->nprefixes; i++) {
			sidero__discovery__client__ipprefix__init(&pfx[i]);
			pfx[i].has_ip = true;
			pfx[i].ip = ip_bytes(&info->prefixes[i].ip);
			pfx[i].has_bits = true;
			pfx[i].bits = info->prefixes[i].bits;
			ppfx[i] = &pfx[i];
		}
		ks.n_additional_addresses = info->nprefixes;
		ks.additional_addresses = ppfx;
		ks.has_exclude_advertised_networks = info->exclude_advertised;
		ks.exclude_advertised_networks = info->exclude_advertised;
		m.kubespan = &ks;
	}
	if (info->api_server_port) {
		cp.has_api_server_port = true;
		cp.api_server_port = info->api_server_port;
		m.control_plane = &cp;
	}
	n = sidero__discovery__client__affiliate__get_packed_size(&m);
	if (n > cap || n > AFF_PLAIN_MAX)
		return -ENOSPC;
	*outlen = sidero__discovery__client__affiliate__pack(&m, out);
	return 0;
}

const char *aff_ip_str(const struct aff_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *aff_ep_str(const struct aff_ep *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	aff_ip_str(&ep->ip, a, sizeof(a));
	snprintf(buf, len, ep->ip.family == 4 ? "%s:%u" : "[%s]:%u", a, ep->port);
	return buf;
}

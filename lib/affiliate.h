/* SPDX-License-Identifier: MIT */
/*
 * Affiliates as nodes seal them for a discovery registry (api/affiliate.proto, the form
 * Talos's discovery client uses): the data is the Affiliate message sealed with
 * AES-256-GCM under the cluster secret, as nonce (12) || ciphertext || tag (16); each
 * endpoint is a length byte and an Endpoint message, zero-padded to whole 16-byte blocks
 * and sealed block by block with AES-256-ECB, so the same endpoint sealed by two nodes is
 * the same blob and a registry can merge them without reading them.
 *
 * aff_decode is the parser of what other nodes (or anyone who can write to the registry
 * without the secret: nobody, once the tag checks) publish: it validates every field into
 * a fixed struct; nothing of the message is kept.
 */
#ifndef BASALT_AFFILIATE_H
#define BASALT_AFFILIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AFF_KEY_LEN 32
#define AFF_NONCE_LEN 12
#define AFF_TAG_LEN 16
#define AFF_DATA_MAX 2048          /* a registry's limit on one affiliate's sealed data */
#define AFF_PLAIN_MAX (AFF_DATA_MAX - AFF_NONCE_LEN - AFF_TAG_LEN)
#define AFF_EP_BLOB_MAX 32         /* a sealed endpoint: IPv4 fits one block, IPv6 two */
#define AFF_ID_MAX 256
#define AFF_NAME_MAX 253           /* hostname, node name */
#define AFF_ADDRS_MAX 64
#define AFF_PREFIXES_MAX 64

struct aff_ip {
	uint8_t family;                /* 4 or 6 */
	uint8_t a[16];                 /* IPv4 in the first 4 bytes, the rest zero */
};

struct aff_prefix {
	struct aff_ip ip;
	uint8_t bits;
};

struct aff_ep {
	struct aff_ip ip;
	uint16_t port;
};

/* What an affiliate says of itself; strings are NUL-terminated, "" when absent. */
struct aff_info {
	char node_id[AFF_ID_MAX + 1];
	char hostname[AFF_NAME_MAX + 1];
	char nodename[AFF_NAME_MAX + 1];
	char machine_type[32];         /* controlplane, worker */
	char os[128];                  /* "Basalt (v0.x)", "Talos (v1.x)" */
	size_t naddrs;
	struct aff_ip addrs[AFF_ADDRS_MAX];
	bool kubespan;                 /* the mesh fields below are set */
	uint8_t wg_pub[32];            /* its WireGuard public key */
	uint8_t mesh_addr[16];         /* its mesh address (IPv6) */
	size_t nprefixes;
	struct aff_prefix prefixes[AFF_PREFIXES_MAX]; /* extra networks it routes (pod CIDRs) */
	bool exclude_advertised;       /* do not route its prefixes to it */
	uint16_t api_server_port;      /* control plane: its Kubernetes API port; 0: none */
};

/* Seals plain (n <= AFF_PLAIN_MAX) into out (room for n + 28). *outlen is set. 0 or -errno. */
int aff_seal(const uint8_t key[AFF_KEY_LEN], const uint8_t *plain, size_t n, uint8_t *out, size_t cap,
	     size_t *outlen);
/* Opens a sealed blob into out (room for n - 28): -EBADMSG when short, forged or sealed under another key. */
int aff_open(const uint8_t key[AFF_KEY_LEN], const uint8_t *blob, size_t n, uint8_t *out, size_t cap,
	     size_t *outlen);

/* Seals one endpoint: 16 or 32 bytes into out (room for AFF_EP_BLOB_MAX). 0 or -EINVAL. */
int aff_ep_seal(const uint8_t key[AFF_KEY_LEN], const struct aff_ep *ep, uint8_t *out, size_t *outlen);
/* Opens one sealed endpoint: -EBADMSG when it is not whole blocks, or not an endpoint inside. */
int aff_ep_open(const uint8_t key[AFF_KEY_LEN], const uint8_t *blob, size_t n, struct aff_ep *ep);

/* Encodes info as an Affiliate message into out. 0, or -ENOSPC when it does not fit. */
int aff_encode(const struct aff_info *info, uint8_t *out, size_t cap, size_t *outlen);
/* Decodes and validates an Affiliate message; -EBADMSG with why filled in (field and reason). */
int aff_decode(const uint8_t *msg, size_t n, struct aff_info *info, char *why, size_t whylen);

/* "10.0.0.1" or "fd00::1" (or "[fd00::1]:51820" for an endpoint) into buf. */
const char *aff_ip_str(const struct aff_ip *ip, char *buf, size_t len);
const char *aff_ep_str(const struct aff_ep *ep, char *buf, size_t len);

#endif

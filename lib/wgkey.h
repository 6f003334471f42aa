/* SPDX-License-Identifier: MIT */
/*
 * WireGuard keys (X25519, RFC 7748) and the mesh addresses derived from them: a cluster's
 * mesh is the ULA /64 fdXX:XXXX:XXXX:XX02::/64 whose 48 bits come from sha256(cluster id)
 * (purpose byte 0x02: the prefix Talos gives KubeSpan for that cluster), and a node's address in it
 * is the first 64 bits of sha256(its public key): stable for as long as its key, with no
 * dependence on a MAC address.
 */
#ifndef BASALT_WGKEY_H
#define BASALT_WGKEY_H

#include <stddef.h>
#include <stdint.h>

#define WGKEY_LEN 32
#define WGKEY_B64_LEN 44   /* without the NUL */
#define WGKEY_HEX_LEN 64

/* A fresh private key, clamped. 0 or -errno. */
int wgkey_generate(uint8_t priv[WGKEY_LEN]);
/* The public key of priv. 0 or -EINVAL. */
int wgkey_public(const uint8_t priv[WGKEY_LEN], uint8_t pub[WGKEY_LEN]);
/* Base64 (wg(8)'s form) and hex (the UAPI's form); out has room for the length + 1. */
void wgkey_b64(const uint8_t k[WGKEY_LEN], char out[WGKEY_B64_LEN + 1]);
void wgkey_hex(const uint8_t k[WGKEY_LEN], char out[WGKEY_HEX_LEN + 1]);
/* 0, or -EINVAL when s is not exactly one key in that form. */
int wgkey_from_b64(const char *s, uint8_t k[WGKEY_LEN]);
int wgkey_from_hex(const char *s, size_t n, uint8_t k[WGKEY_LEN]);

/* The cluster's mesh prefix (a /64: the last 8 bytes zero). */
void wgkey_mesh_prefix(const char *cluster_id, uint8_t prefix[16]);
/* A node's mesh address: the prefix and 64 bits of sha256(pub). */
void wgkey_mesh_addr(const char *cluster_id, const uint8_t pub[WGKEY_LEN], uint8_t addr[16]);

#endif

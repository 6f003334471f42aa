// SPDX-License-Identifier: MIT
/* WireGuard keys and mesh addresses (see wgkey.h). X25519 is mbedTLS's Curve25519. */
#include "lib/wgkey.h"

#include <errno.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "lib/rng.h"

static void clamp(uint8_t k[WGKEY_LEN])
{
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

int wgkey_generate(uint8_t priv[WGKEY_LEN])
{
	if (rng_random(rng_ctx(), priv, WGKEY_LEN) != 0)
		return -EIO;
	clamp(priv);
	return 0;
}

int wgkey_public(const uint8_t priv[WGKEY_LEN], uint8_t pub[WGKEY_LEN])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d;
	uint8_t k[WGKEY_LEN];
	size_t olen = 0;
	int rc = -EINVAL;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	memcpy(k, priv, sizeof(k));
	clamp(k); /* X25519 clamps whatever it is given (RFC 7748 5) */
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519) != 0 ||
	    mbedtls_mpi_read_binary_le(&d, k, sizeof(k)) != 0 ||
	    mbedtls_ecp_mul(&grp, &q, &d, &grp.G, rng_random, rng_ctx()) != 0 ||
	    mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub, WGKEY_LEN) != 0 ||
	    olen != WGKEY_LEN)
		goto out;
	rc = 0;
out:
	mbedtls_platform_zeroize(k, sizeof(k));
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

void wgkey_b64(const uint8_t k[WGKEY_LEN], char out[WGKEY_B64_LEN + 1])
{
	size_t olen = 0;

	if (mbedtls_base64_encode((unsigned char *)out, WGKEY_B64_LEN + 1, &olen, k, WGKEY_LEN) != 0)
		out[0] = '\0';
}

void wgkey_hex(const uint8_t k[WGKEY_LEN], char out[WGKEY_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < WGKEY_LEN; i++) {
		out[2 * i] = digits[k[i] >> 4];
		out[2 * i + 1] = digits[k[i] & 15];
	}
	out[WGKEY_HEX_LEN] = '\0';
}

int wgkey_from_b64(const char *s, uint8_t k[WGKEY_LEN])
{
	uint8_t tmp[WGKEY_LEN + 3];
	size_t olen = 0;
	size_t n = strlen(s);

	if (n != WGKEY_B64_LEN || s[n - 1] != '=' ||
	    mbedtls_base64_decode(tmp, sizeof(tmp), &olen, (const unsigned char *)s, n) != 0 || olen != WGKEY_LEN) {
		mbedtls_platform_zeroize(tmp, sizeof(tmp));
		return -EINVAL;
	}
	memcpy(k, tmp, WGKEY_LEN);
	mbedtls_platform_zeroize(tmp, sizeof(tmp));
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wgkey_from_hex(const char *s, size_t n, uint8_t k[WGKEY_LEN])
{
	if (n != WGKEY_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < WGKEY_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void wgkey_mesh_prefix(const char *cluster_id, uint8_t prefix[16])
{
	uint8_t sum[32];

	mbedtls_sha256((const unsigned char *)cluster_id, strlen(cluster_id), sum, 0);
	memset(prefix, 0, 16);
	memcpy(prefix + 1, sum + 17, 6); /* the last half of the hash, as Talos takes it */
	prefix[0] = 0xfd;
	prefix[7] = 0x02; /* purpose: the mesh (Talos: 0x01 bootstrap, 0x02 KubeSpan, 0x03 SideroLink) */
}

void wgkey_mesh_addr(const char *cluster_id, const uint8_t pub[WGKEY_LEN], uint8_t addr[16])
{
	uint8_t sum[32];

	wgkey_mesh_prefix(cluster_id, addr);
	mbedtls_sha256(pub, WGKEY_LEN, sum, 0);
	memcpy(addr + 8, sum, 8);
}

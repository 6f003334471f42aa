/* SPDX-License-Identifier: MIT */
#include "machined/cfgstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/sha256.h>

#include "lib/atomicfile.h"

#define HEADER_FMT "# basalt-config sha256=%64s len=%zu\n"
#define HEADER_MAX 128

static void hex_sha256(const char *data, size_t len, char hex[65])
{
	unsigned char sum[32];

	mbedtls_sha256((const unsigned char *)data, len, sum, 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

/* Checks file contents; on success points body/bodylen at the config text. */
static int verify(const char *buf, size_t len, const char **body, size_t *bodylen, char *why,
		  size_t whylen)
{
	char want[65], got[65];
	const char *nl = memchr(buf, '\n', len < HEADER_MAX ? len : HEADER_MAX);
	size_t n;

	if (!nl || sscanf(buf, HEADER_FMT, want, &n) != 2) {
		snprintf(why, whylen, "no checksum header");
		return -EBADMSG;
	}
	*body = nl + 1;
	*bodylen = len - (size_t)(*body - buf);
	if (*bodylen != n) {
		snprintf(why, whylen, "%zu bytes where the header says %zu (torn write?)", *bodylen, n);
		return -EBADMSG;
	}
	hex_sha256(*body, *bodylen, got);
	if (strcmp(got, want) != 0) {
		snprintf(why, whylen, "checksum mismatch (corrupted)");
		return -EBADMSG;
	}
	return 0;
}

static int load_one(const char *dir, const char *name, char **text, size_t *len, char *why,
		    size_t whylen)
{
	char path[4096], *buf = NULL;
	const char *body;
	size_t blen, bodylen;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = read_file(path, CFGSTATE_MAX + HEADER_MAX, &buf, &blen);
	if (r < 0) {
		snprintf(why, whylen, "%s", r == -ENOENT ? "missing" : strerror(-r));
		return r;
	}
	r = verify(buf, blen, &body, &bodylen, why, whylen);
	if (r == 0) {
		memmove(buf, body, bodylen);
		buf[bodylen] = '\0';
		*text = buf;
		*len = bodylen;
		return 0;
	}
	free(buf);
	return r;
}

int cfgstate_load(const char *dir, char **text, size_t *len, char *report, size_t reportlen)
{
	char why_cur[128], why_prev[128];
	int rc, rp;

	report[0] = '\0';
	rc = load_one(dir, CFGSTATE_CURRENT, text, len, why_cur, sizeof(why_cur));
	if (rc == 0)
		return 0;
	rp = load_one(dir, CFGSTATE_PREVIOUS, text, len, why_prev, sizeof(why_prev));
	if (rp == 0) {
		snprintf(report, reportlen, "%s/%s: %s; using the last good copy %s", dir,
			 CFGSTATE_CURRENT, why_cur, CFGSTATE_PREVIOUS);
		return 0;
	}
	if (rc == -ENOENT && rp == -ENOENT)
		return -ENOENT;
	snprintf(report, reportlen, "%s/%s: %s; %s: %s", dir, CFGSTATE_CURRENT, why_cur,
		 CFGSTATE_PREVIOUS, why_prev);
	return -EBADMSG;
}

int cfgstate_save(const char *dir, const char *text, size_t len, char *err, size_t errlen)
{
	char header[HEADER_MAX], hex[65], cur[4096], prev[4096], *buf, *old = NULL, why[128];
	size_t hlen, oldlen;
	int r;

	if (len > CFGSTATE_MAX) {
		snprintf(err, errlen, "config is %zu bytes, more than %u", len, CFGSTATE_MAX);
		return -EFBIG;
	}
	hex_sha256(text, len, hex);
	hlen = (size_t)snprintf(header, sizeof(header), "# basalt-config sha256=%s len=%zu\n", hex, len);
	buf = malloc(hlen + len);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(buf, header, hlen);
	memcpy(buf + hlen, text, len);
	snprintf(cur, sizeof(cur), "%s/%s", dir, CFGSTATE_CURRENT);
	snprintf(prev, sizeof(prev), "%s/%s", dir, CFGSTATE_PREVIOUS);
	/* Only a good current config may replace the last good copy. */
	if (load_one(dir, CFGSTATE_CURRENT, &old, &oldlen, why, sizeof(why)) == 0) {
		free(old);
		if (rename(cur, prev) < 0) {
			r = -errno;
			snprintf(err, errlen, "keep %s as %s: %s", cur, prev, strerror(errno));
			free(buf);
			return r;
		}
	}
	r = atomic_write(cur, buf, hlen + len, 0600, err, errlen);
	free(buf);
	return r;
}

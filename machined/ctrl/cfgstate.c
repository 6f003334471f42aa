/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/cfgstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int cfgstate_load_one(const char *dir, const char *name, char **text, size_t *len, char *why,
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
	rc = cfgstate_load_one(dir, CFGSTATE_CURRENT, text, len, why_cur, sizeof(why_cur));
	if (rc == 0)
		return 0;
	rp = cfgstate_load_one(dir, CFGSTATE_PREVIOUS, text, len, why_prev, sizeof(why_prev));
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

/* The file's bytes: the checksum header, then text. */
static char *framed(const char *text, size_t len, size_t *n, char *err, size_t errlen)
{
	char header[HEADER_MAX], hex[65], *buf;
	size_t hlen;

	if (len > CFGSTATE_MAX) {
		snprintf(err, errlen, "config is %zu bytes, more than %u", len, CFGSTATE_MAX);
		return NULL;
	}
	hex_sha256(text, len, hex);
	hlen = (size_t)snprintf(header, sizeof(header), "# basalt-config sha256=%s len=%zu\n", hex, len);
	buf = malloc(hlen + len);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(buf, header, hlen);
	memcpy(buf + hlen, text, len);
	*n = hlen + len;
	return buf;
}

int cfgstate_put(const char *dir, const char *name, const char *text, size_t len, char *err,
		 size_t errlen)
{
	char path[4096], *buf;
	size_t n;
	int r;

	buf = framed(text, len, &n, err, errlen);
	if (!buf)
		return len > CFGSTATE_MAX ? -EFBIG : -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = atomic_write(path, buf, n, 0600, err, errlen);
	free(buf);
	return r;
}

int cfgstate_remove(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/*
 * The new file is written whole first (config.yaml.next); only then does the current one
 * become the previous one and the new one current. Out of space, nothing has moved.
 */
int cfgstate_save(const char *dir, const char *text, size_t len, char *err, size_t errlen)
{
	char cur[4096], prev[4096], next[4096], *old = NULL, why[128];
	size_t oldlen;
	int r;

	snprintf(cur, sizeof(cur), "%s/%s", dir, CFGSTATE_CURRENT);
	snprintf(prev, sizeof(prev), "%s/%s", dir, CFGSTATE_PREVIOUS);
	snprintf(next, sizeof(next), "%s/%s.next", dir, CFGSTATE_CURRENT);
	r = cfgstate_put(dir, CFGSTATE_CURRENT ".next", text, len, err, errlen);
	if (r < 0) {
		unlink(next);
		return r;
	}
	/* Only a good current config may replace the last good copy. */
	if (cfgstate_load_one(dir, CFGSTATE_CURRENT, &old, &oldlen, why, sizeof(why)) == 0) {
		free(old);
		if (rename(cur, prev) < 0) {
			r = -errno;
			snprintf(err, errlen, "keep %s as %s: %s", cur, prev, strerror(errno));
			unlink(next);
			return r;
		}
	}
	if (rename(next, cur) < 0) {
		r = -errno;
		snprintf(err, errlen, "rename %s to %s: %s", next, cur, strerror(errno));
		return r;
	}
	return atomic_sync_dir(dir, err, errlen);
}

/* SPDX-License-Identifier: MIT */
#include "machined/platform/cloudinit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/pbyaml.h"

/* The scalar value of key in mapping m, or NULL (absent, or not a scalar). */
static const char *scalar_of(struct fy_node *m, const char *key, size_t *len)
{
	struct fy_node_pair *pair;
	void *it = NULL;

	while ((pair = fy_node_mapping_iterate(m, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		size_t kl;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &kl) : NULL;

		if (ks && kl == strlen(key) && memcmp(ks, key, kl) == 0)
			return v && fy_node_get_type(v) == FYNT_SCALAR ? fy_node_get_scalar(v, len) : NULL;
	}
	return NULL;
}

/* Copies a scalar (len bytes, no NUL inside) into out; false when it does not fit or holds a control character. */
static bool take(const char *s, size_t len, char *out, size_t outlen)
{
	if (len >= outlen)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

/* A host name (possibly with its domain): letters, digits, '-' and '.', parts 1 to 63 long. */
static bool hostname_ok(const char *h)
{
	size_t part = 0;

	if (!*h || *h == '.' || *h == '-')
		return false;
	for (const char *c = h; *c; c++) {
		if (*c == '.') {
			if (part == 0)
				return false;
			part = 0;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-') ||
		    ++part > 63)
			return false;
	}
	return part > 0;
}

int cloudinit_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
		{ "instance-id", offsetof(struct platform_metadata, instance_id), sizeof(md->instance_id) },
		{ "local-hostname", offsetof(struct platform_metadata, hostname), sizeof(md->hostname) },
		{ "hostname", offsetof(struct platform_metadata, hostname), sizeof(md->hostname) },
	};
	struct fy_document *doc;
	struct fy_node *root;
	struct diag d;
	int r = 0;

	if (len > CLOUDINIT_DOC_MAX) {
		snprintf(err, errlen, "meta-data: %zu bytes, more than %u", len, CLOUDINIT_DOC_MAX);
		return -1;
	}
	{
		size_t i = 0;

		while (i < len && strchr(" \t\r\n", text[i]) && text[i])
			i++;
		if (i == len)
			return 0;  /* an empty meta-data: nothing said */
	}
	diag_init(&d);
	doc = pbyaml_parse("meta-data", text, len, &d);
	if (!doc) {
		char *msg = diag_format(&d);

		snprintf(err, errlen, "%s", msg ? msg : "meta-data: not YAML");
		for (char *p = err; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : '\0';
		free(msg);
		diag_fini(&d);
		return -1;
	}
	root = fy_document_root(doc);
	if (root && fy_node_get_type(root) != FYNT_MAPPING) {
		snprintf(err, errlen, "meta-data: not a mapping of keys to values");
		r = -1;
	}
	for (size_t i = 0; r == 0 && root && i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *out = (char *)md + fields[i].off;
		size_t vl;
		const char *v = scalar_of(root, fields[i].key, &vl);

		/* local-hostname wins over hostname: it comes first. */
		if (!v || (out[0] && strcmp(fields[i].key, "hostname") == 0))
			continue;
		if (!take(v, vl, out, fields[i].size)) {
			snprintf(err, errlen, "meta-data: %s: longer than %zu characters or not text", fields[i].key,
				 fields[i].size - 1);
			r = -1;
		}
	}
	if (r == 0 && md->hostname[0] && !hostname_ok(md->hostname)) {
		snprintf(err, errlen, "meta-data: local-hostname \"%.64s\" is not a host name (letters, digits, '-' and '.')",
			 md->hostname);
		md->hostname[0] = '\0';
		r = -1;
	}
	fy_document_destroy(doc);
	diag_fini(&d);
	return r;
}

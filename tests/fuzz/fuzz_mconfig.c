/* SPDX-License-Identifier: MIT */
/*
 * The machine config path: parse, patch, decode, validate. The input is a config and,
 * after the first NUL byte, a patch. Whatever validates must come back identical from its
 * own YAML and JSON renderings: a difference is a codec bug, and aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Basalt__Config__Config *load(const char *text, size_t len, const struct mconfig_patch *p,
				    size_t np)
{
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	char *msg;

	diag_init(&d);
	mconfig_load("fuzz", text, len, p, np, &cfg, &d);
	msg = diag_format(&d);
	free(msg);
	diag_fini(&d);
	return cfg;
}

static void same_or_abort(const Basalt__Config__Config *a, const Basalt__Config__Config *b)
{
	size_t la, lb;
	uint8_t *pa, *pb;

	if (!b)
		abort();  /* a valid config's own rendering must be valid */
	la = protobuf_c_message_get_packed_size(&a->base);
	lb = protobuf_c_message_get_packed_size(&b->base);
	if (la != lb)
		abort();
	pa = malloc(la + 1);
	pb = malloc(lb + 1);
	protobuf_c_message_pack(&a->base, pa);
	protobuf_c_message_pack(&b->base, pb);
	if (memcmp(pa, pb, la) != 0)
		abort();
	free(pa);
	free(pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(data, 0, size);
	struct mconfig_patch p = { "patch", NULL, 0 };
	size_t len = nul ? (size_t)(nul - text) : size;
	Basalt__Config__Config *cfg;

	if (nul) {
		p.text = nul + 1;
		p.len = size - len - 1;
	}
	cfg = load(text, len, &p, nul ? 1 : 0);
	if (cfg) {
		char *yaml = mconfig_emit(cfg, false), *json = mconfig_emit(cfg, true);
		Basalt__Config__Config *b = load(yaml, strlen(yaml), NULL, 0);
		Basalt__Config__Config *c = load(json, strlen(json), NULL, 0);

		same_or_abort(cfg, b);
		same_or_abort(cfg, c);
		mconfig_free(b);
		mconfig_free(c);
		free(yaml);
		free(json);
		mconfig_free(cfg);
	}
	return 0;
}

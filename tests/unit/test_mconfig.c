/* SPDX-License-Identifier: MIT */
/*
 * The machine config: the golden corpus in tests/data/config (valid configs load; invalid
 * ones give exactly their .err; patches give their .expected.yaml or .err), codec round
 * trips for every message of api/config.proto, and the document limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "lib/pbyaml.h"

#define DATA "tests/data/config"

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512], *text = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, 1 << 22, &text, &n) < 0)
		fail_msg("cannot read %s", path);
	if (len)
		*len = n;
	return text;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Loads dir/name with optional patch; returns the config, or NULL with the diagnostics. */
static Basalt__Config__Config *load(const char *dir, const char *name, const char *patch,
				    char **diag_text)
{
	struct mconfig_patch p = { 0 };
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	size_t len;
	char *text = slurp(dir, name, &len);

	diag_init(&d);
	if (patch) {
		p.name = patch;
		p.text = slurp(dir, patch, &p.len);
	}
	mconfig_load(name, text, len, patch ? &p : NULL, patch ? 1 : 0, &cfg, &d);
	*diag_text = diag_format(&d);
	diag_fini(&d);
	free(text);
	free((char *)p.text);
	return cfg;
}

static void test_valid_corpus(void **state)
{
	DIR *dir = opendir(DATA "/valid");
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		Basalt__Config__Config *cfg;
		char *diag;

		if (de->d_name[0] == '.')
			continue;
		cfg = load(DATA "/valid", de->d_name, NULL, &diag);
		if (!cfg)
			fail_msg("%s should be valid, got:\n%s", de->d_name, diag);
		mconfig_free(cfg);
		free(diag);
		n++;
	}
	closedir(dir);
	assert_true(n >= 3);
}

static void test_invalid_corpus_exact_errors(void **state)
{
	DIR *dir = opendir(DATA "/invalid");
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		Basalt__Config__Config *cfg;
		char errname[256], *diag, *want;

		if (!has_suffix(de->d_name, ".yaml"))
			continue;
		cfg = load(DATA "/invalid", de->d_name, NULL, &diag);
		if (cfg)
			fail_msg("%s loaded, but is invalid", de->d_name);
		snprintf(errname, sizeof(errname), "%.*s.err", (int)(strlen(de->d_name) - 5), de->d_name);
		want = slurp(DATA "/invalid", errname, NULL);
		if (strcmp(diag, want) != 0)
			fail_msg("%s: errors differ.\n--- want\n%s--- got\n%s", de->d_name, want, diag);
		free(want);
		free(diag);
		n++;
	}
	closedir(dir);
	assert_true(n >= 12);
}

static void test_patches(void **state)
{
	DIR *dir = opendir(DATA "/patch");
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		const char *dot = strstr(de->d_name, ".patch.");
		char expected[256], errname[256], *diag, *got, *want;
		Basalt__Config__Config *cfg;
		FILE *f;

		if (!dot)
			continue;
		snprintf(expected, sizeof(expected), DATA "/patch/%.*s.expected.yaml", (int)(dot - de->d_name), de->d_name);
		snprintf(errname, sizeof(errname), "%.*s.err", (int)(dot - de->d_name), de->d_name);
		cfg = load(DATA "/patch", "base.yaml", de->d_name, &diag);
		f = fopen(expected, "r");
		if (f) {
			fclose(f);
			if (!cfg)
				fail_msg("%s should apply, got:\n%s", de->d_name, diag);
			got = mconfig_emit(cfg, false);
			want = slurp(".", expected, NULL);
			if (strcmp(got, want) != 0)
				fail_msg("%s: result differs.\n--- want\n%s--- got\n%s", de->d_name, want, got);
			free(got);
		} else {
			if (cfg)
				fail_msg("%s applied, but should fail", de->d_name);
			want = slurp(DATA "/patch", errname, NULL);
			if (strcmp(diag, want) != 0)
				fail_msg("%s: errors differ.\n--- want\n%s--- got\n%s", de->d_name, want, diag);
		}
		free(want);
		free(diag);
		mconfig_free(cfg);
		n++;
	}
	closedir(dir);
	assert_true(n >= 8);
}

/* Records every field set anywhere in m, as "Message.field". */
static void collect(const ProtobufCMessage *m, char seen[][96], size_t *n)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *member = (const char *)m + f->offset;
		size_t count = 1;
		bool set;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			count = *(const size_t *)((const char *)m + f->quantifier_offset);
			set = count > 0;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
			set = *(void *const *)member != NULL;
		} else {
			set = *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset);
		}
		if (!set)
			continue;
		snprintf(seen[*n], 96, "%s.%s", d->name, f->name);
		if (*n < 2047)
			(*n)++;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		for (size_t k = 0; k < count; k++) {
			const ProtobufCMessage *sub = f->label == PROTOBUF_C_LABEL_REPEATED
							      ? (*(ProtobufCMessage *const *const *)member)[k]
							      : *(ProtobufCMessage *const *)member;

			if (strcmp(sub->descriptor->name + strlen(sub->descriptor->name) - 5, "Entry") != 0)
				collect(sub, seen, n);
		}
	}
}

/* Every field of every message reachable from desc must be in seen. */
static int missing(const ProtobufCMessageDescriptor *desc, char seen[][96], size_t n, char *out,
		   size_t outlen, int depth)
{
	int miss = 0;

	if (depth > 16)
		return 0;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		char name[96];
		bool found = false;

		snprintf(name, sizeof(name), "%s.%s", desc->name, f->name);
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(seen[k], name) == 0;
		if (!found) {
			snprintf(out + strlen(out), outlen - strlen(out), " %s", name);
			miss++;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && !strstr(((const ProtobufCMessageDescriptor *)f->descriptor)->name, "Entry"))
			miss += missing(f->descriptor, seen, n, out, outlen, depth + 1);
	}
	return miss;
}

static Basalt__Config__Config *reload(const char *text)
{
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	char *msg;

	diag_init(&d);
	if (mconfig_load("emitted", text, strlen(text), NULL, 0, &cfg, &d) < 0) {
		msg = diag_format(&d);
		fail_msg("emitted config does not load:\n%s\n--- emitted\n%s", msg, text);
	}
	diag_fini(&d);
	return cfg;
}

static void round_trip(Basalt__Config__Config *a, const char *name)
{
	char *yaml = mconfig_emit(a, false), *json = mconfig_emit(a, true), *yaml2;
	Basalt__Config__Config *b = reload(yaml), *c = reload(json);
	size_t la = protobuf_c_message_get_packed_size(&a->base);
	uint8_t *pa = malloc(la), *pb = malloc(la), *pc = malloc(la);

	if (protobuf_c_message_get_packed_size(&b->base) != la ||
	    protobuf_c_message_get_packed_size(&c->base) != la)
		fail_msg("%s: the round trip changed the config", name);
	protobuf_c_message_pack(&a->base, pa);
	protobuf_c_message_pack(&b->base, pb);
	protobuf_c_message_pack(&c->base, pc);
	assert_memory_equal(pa, pb, la);
	assert_memory_equal(pa, pc, la);
	/* Emitting is stable: the second round gives the same text. */
	yaml2 = mconfig_emit(b, false);
	assert_string_equal(yaml, yaml2);
	free(pa);
	free(pb);
	free(pc);
	free(yaml);
	free(yaml2);
	free(json);
	mconfig_free(b);
	mconfig_free(c);
}

/* Every valid config survives YAML and JSON round trips, and together they set every
 * field of every message in api/config.proto, so no field's round trip goes untested. */
static void test_round_trip_every_message(void **state)
{
	static char seen[2048][96];
	char gaps[4096] = "";
	size_t n = 0;
	DIR *dir = opendir(DATA "/valid");
	struct dirent *de;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		Basalt__Config__Config *a;
		char *diag;

		if (de->d_name[0] == '.')
			continue;
		a = load(DATA "/valid", de->d_name, NULL, &diag);
		assert_non_null(a);
		free(diag);
		collect(&a->base, seen, &n);
		round_trip(a, de->d_name);
		mconfig_free(a);
	}
	closedir(dir);
	if (missing(&basalt__config__config__descriptor, seen, n, gaps, sizeof(gaps), 0))
		fail_msg("no valid config sets these fields, so their round trip is untested:%s", gaps);
}

static void expect_load_error(const char *text, size_t len, const char *needle)
{
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	char *msg;

	diag_init(&d);
	assert_int_equal(mconfig_load("big.yaml", text, len, NULL, 0, &cfg, &d), -EINVAL);
	assert_null(cfg);
	msg = diag_format(&d);
	if (!strstr(msg, needle))
		fail_msg("wanted \"%s\" in:\n%s", needle, msg);
	free(msg);
	diag_fini(&d);
}

static void test_limits(void **state)
{
	size_t big = (1u << 20) + 10, deep = 2 * 100 + 1;
	char *text = malloc(big);

	(void)state;
	memset(text, ' ', big);
	expect_load_error(text, big, "big.yaml: document is 1048586 bytes, more than the 1048576-byte limit");
	for (size_t i = 0; i < deep; i++)
		text[i] = i < 100 ? '[' : i < 200 ? ']' : '\n';
	/* libfyaml stops at the same depth as our own check, with its own words. */
	expect_load_error(text, deep, "big.yaml:1:64: Max depth (64) exceeded");
	expect_load_error("", 0, "big.yaml: empty document");
	/* Invalid UTF-8 never reaches the parser (one such input hangs libfyaml 0.7). */
	expect_load_error("a: 1\n% \x8d\n", 8, "big.yaml:2:3: not valid UTF-8 (byte 0x8d)");
	expect_load_error("a: \xc0\xaf\n", 7, "big.yaml:1:4: not valid UTF-8 (byte 0xc0)");
	expect_load_error("a: 1\0b", 6, "big.yaml:1:5: a NUL byte: not a text document");
	expect_load_error("# only a comment\n", 17, "big.yaml: empty document");
	/* A tab before an indicator never reaches the parser (libfyaml 0.7 crashes on it). */
	expect_load_error("a:\t>\tb: 1\n", 10, "big.yaml:1:3: a tab before \">\"");
	expect_load_error("a: 1\n\t- b\n", 9, "big.yaml:2:1: a tab before \"-\"");
	/* Anchors and aliases: libfyaml would give the alias as its anchor's name. */
	expect_load_error("machine:\n  network:\n    hostname: *t\n", 37,
			  "big.yaml:3:15: an alias *t: YAML anchors and aliases are not supported");
	expect_load_error("machine:\n  network:\n    hostname: &t node-a\n", 43,
			  "big.yaml:3:18: an anchor &t: YAML anchors and aliases are not supported");
	expect_load_error("a: &x [1, 2]\nb: *x\n", 18, "an anchor &x: YAML anchors and aliases are not supported");
	free(text);
}

/* valid/minimal-worker.yaml with machine.network.hostname set to name: whether it loads. */
static bool hostname_loads(const char *name, char **diag_text)
{
	char patch[512];
	struct mconfig_patch p = { "hostname.yaml", patch, 0 };
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	size_t len;
	char *text = slurp(DATA "/valid", "minimal-worker.yaml", &len);
	int r;

	p.len = (size_t)snprintf(patch, sizeof(patch), "machine:\n  network:\n    hostname: %s\n", name);
	diag_init(&d);
	r = mconfig_load("minimal-worker.yaml", text, len, &p, 1, &cfg, &d);
	*diag_text = diag_format(&d);
	diag_fini(&d);
	free(text);
	if (cfg)
		protobuf_c_message_free_unpacked(&cfg->base, NULL);
	return r == 0 && cfg;
}

/* Exactly what sethostname(2) and setdomainname(2) take (64 bytes each), and a label's 63. */
static void test_hostname_bounds(void **state)
{
	char name[160], *diag;

	(void)state;
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_true(hostname_loads(name, &diag));  /* a 63-character host name */
	free(diag);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_false(hostname_loads(name, &diag));  /* a 64-character label is no DNS label */
	assert_non_null(strstr(diag, "is not a valid host name"));
	free(diag);
	/* node. + a 64-character domain (two labels): taken; one more character: refused. */
	snprintf(name, sizeof(name), "node.%.31s.%.32s", "ddddddddddddddddddddddddddddddddddd",
		 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
	assert_int_equal(strlen(name) - 5, 64);
	assert_true(hostname_loads(name, &diag));
	free(diag);
	snprintf(name, sizeof(name), "node.%.31s.%.33s", "ddddddddddddddddddddddddddddddddddd",
		 "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
	assert_false(hostname_loads(name, &diag));
	assert_non_null(strstr(diag, "the part after the first dot is 65 characters"));
	free(diag);
}

/* A node's spec as osctl prints it with -o json, from parsed YAML (libfyaml's JSON mode
 * crashes on an empty block scalar, found by fuzz_osctl). */
static void json_of(const char *yaml, const char *want)
{
	struct diag d;
	struct fy_document *fyd;
	char *j;

	diag_init(&d);
	fyd = pbyaml_parse("spec", yaml, strlen(yaml), &d);
	diag_fini(&d);
	assert_non_null(fyd);
	j = pbyaml_json_line(fy_document_root(fyd));
	assert_non_null(j);
	assert_string_equal(j, want);
	free(j);
	fy_document_destroy(fyd);
}

static void test_json_line(void **state)
{
	(void)state;
	json_of("b: >\n", "{\"b\":\"\"}");
	json_of("b: |\n", "{\"b\":\"\"}");
	json_of("a: 1\nb: x\nc: true\nd:\ne: '5'\nf: [1, two, -2.5e3]\ng: {h: \"q\\\"t\"}\ni: 01\n",
		"{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":\"5\",\"f\":[1,\"two\",-2.5e3],"
		"\"g\":{\"h\":\"q\\\"t\"},\"i\":\"01\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_valid_corpus),
		cmocka_unit_test(test_invalid_corpus_exact_errors),
		cmocka_unit_test(test_patches),
		cmocka_unit_test(test_round_trip_every_message),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostname_bounds),
	};

	return cmocka_run_group_tests_name("mconfig", tests, NULL, NULL);
}

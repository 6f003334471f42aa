/* SPDX-License-Identifier: MIT */
#include "lib/pbyaml.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* --- source map: an open-addressing hash from JSON pointer to position --- */

struct srcmap_entry {
	char *path;
	const char *file;
	int line, col;
};

struct srcmap {
	struct srcmap_entry *v;
	size_t n, cap;  /* cap is a power of two */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct srcmap *srcmap_new(void)
{
	struct srcmap *sm = calloc(1, sizeof(*sm));

	if (sm) {
		sm->cap = 64;
		sm->v = calloc(sm->cap, sizeof(*sm->v));
		if (!sm->v) {
			free(sm);
			return NULL;
		}
	}
	return sm;
}

void srcmap_free(struct srcmap *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; i < sm->cap; i++)
		free(sm->v[i].path);
	free(sm->v);
	free(sm);
}

static struct srcmap_entry *slot(const struct srcmap *sm, const char *path)
{
	size_t i = (size_t)hash_str(path) & (sm->cap - 1);

	while (sm->v[i].path && strcmp(sm->v[i].path, path) != 0)
		i = (i + 1) & (sm->cap - 1);
	return &sm->v[i];
}

static int grow(struct srcmap *sm)
{
	struct srcmap old = *sm;

	sm->cap *= 2;
	sm->n = 0;
	sm->v = calloc(sm->cap, sizeof(*sm->v));
	if (!sm->v) {
		*sm = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (old.v[i].path) {
			*slot(sm, old.v[i].path) = old.v[i];
			sm->n++;
		}
	}
	free(old.v);
	return 0;
}

void srcmap_put(struct srcmap *sm, const char *path, const char *file, int line, int col)
{
	struct srcmap_entry *e;

	if (!sm || ((sm->n + 1) * 2 > sm->cap && grow(sm) < 0))
		return;
	e = slot(sm, path);
	if (!e->path) {
		e->path = strdup(path);
		if (!e->path)
			return;
		sm->n++;
	}
	e->file = file;
	e->line = line;
	e->col = col;
}

bool srcmap_find(const struct srcmap *sm, const char *path, const char **file, int *line,
		 int *col)
{
	char buf[sizeof(((struct jptr *)0)->buf)];

	if (!sm)
		return false;
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		const struct srcmap_entry *e = slot(sm, buf);
		char *slash;

		if (e->path) {
			*file = e->file;
			*line = e->line;
			*col = e->col;
			return true;
		}
		slash = strrchr(buf, '/');
		if (!slash)
			return false;
		*slash = '\0';
	}
}

/* --- positions, suggestions --- */

/* The scalar that stands for n's position: n itself, or the first one inside it. */
static struct fy_node *pos_scalar(struct fy_node *n)
{
	for (int depth = 0; n && depth < PBYAML_MAX_DEPTH; depth++) {
		void *it = NULL;
		struct fy_node_pair *p;

		switch (fy_node_get_type(n)) {
		case FYNT_SCALAR:
			return n;
		case FYNT_MAPPING:
			p = fy_node_mapping_iterate(n, &it);
			n = p ? fy_node_pair_key(p) : NULL;
			break;
		case FYNT_SEQUENCE:
			n = fy_node_sequence_iterate(n, &it);
			break;
		}
	}
	return NULL;
}

bool pbyaml_node_pos(struct fy_node *n, int *line, int *col)
{
	struct fy_node *s = pos_scalar(n);
	struct fy_token *t = s ? fy_node_get_scalar_token(s) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

	if (!m)
		return false;
	*line = m->line + 1;
	*col = m->column + 1;
	return true;
}

const char *pbyaml_node_file(struct fy_node *n, const char *fallback)
{
	struct fy_node *s = pos_scalar(n);
	const char *f = s ? fy_node_get_meta(s) : NULL;

	return f ? f : fallback;
}

static void no_clear(struct fy_node *n, void *meta, void *user)
{
	(void)n;
	(void)meta;
	(void)user;
}

static void tag_tree(struct fy_node *n, const char *file, int depth)
{
	void *it = NULL;

	if (!n || depth > PBYAML_MAX_DEPTH)
		return;
	fy_node_set_meta(n, (void *)file);
	if (fy_node_get_type(n) == FYNT_MAPPING) {
		struct fy_node_pair *p;

		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			tag_tree(fy_node_pair_key(p), file, depth + 1);
			tag_tree(fy_node_pair_value(p), file, depth + 1);
		}
	} else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *c;

		while ((c = fy_node_sequence_iterate(n, &it)) != NULL)
			tag_tree(c, file, depth + 1);
	}
}

void pbyaml_tag(struct fy_document *fyd, struct fy_node *n, const char *file)
{
	/* Fails harmlessly when a previous patch registered the hook already. */
	fy_document_register_meta(fyd, no_clear, NULL);
	tag_tree(n, file, 0);
}

bool pbyaml_is_null(struct fy_node *n)
{
	static const char *const nulls[] = { "", "null", "Null", "NULL", "~" };
	const char *s;
	size_t len;

	if (!n)
		return true;
	if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return true;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strlen(nulls[i]) == len && memcmp(s, nulls[i], len) == 0)
			return true;
	return false;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *pbyaml_suggest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(s) / 3 + 1;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* --- parsing text --- */

static const char *node_kind(struct fy_node *n)
{
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING:
		return "a mapping";
	case FYNT_SEQUENCE:
		return "a list";
	default:
		return "a scalar";
	}
}

static void copy_fy_errors(struct fy_diag *fyd, const char *file, struct diag *d)
{
	struct fy_diag_error *e;
	void *it = NULL;

	/* Unlike marks, collected errors carry 1-based positions. */
	while ((e = fy_diag_errors_iterate(fyd, &it)) != NULL)
		diag_add(d, file, e->line, e->column, "", "%s", e->msg);
}

/*
 * The first anchor (&name) or alias (*name) in n, keys included: libfyaml hands an alias
 * over as its anchor's name (`hostname: *t` would read "t"), and a config with
 * references is not what it looks like; both are refused, with their position.
 */
static struct fy_node *find_reference(struct fy_node *n, int depth, bool *alias)
{
	void *it = NULL;

	if (!n || depth > PBYAML_MAX_DEPTH)
		return NULL;
	if (fy_node_is_alias(n)) {
		*alias = true;
		return n;
	}
	if (fy_node_get_anchor(n)) {
		*alias = false;
		return n;
	}
	if (fy_node_get_type(n) == FYNT_MAPPING) {
		struct fy_node_pair *p;

		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			struct fy_node *r = find_reference(fy_node_pair_key(p), depth + 1, alias);

			if (r || (r = find_reference(fy_node_pair_value(p), depth + 1, alias)))
				return r;
		}
	} else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *c;

		while ((c = fy_node_sequence_iterate(n, &it)) != NULL) {
			struct fy_node *r = find_reference(c, depth + 1, alias);

			if (r)
				return r;
		}
	}
	return NULL;
}

static void refuse_references(struct fy_node *root, const char *file, struct diag *d)
{
	bool alias = false;
	struct fy_node *r = find_reference(root, 0, &alias);
	const char *name = NULL;
	size_t len = 0;
	int line = 0, col = 0;

	if (!r)
		return;
	if (alias)
		name = fy_node_get_scalar(r, &len);
	else
		name = fy_anchor_get_text(fy_node_get_anchor(r), &len);
	/* An alias's token starts after its '*'; an anchor is placed at the value it names. */
	if (pbyaml_node_pos(r, &line, &col) && alias && col > 1)
		col--;
	diag_add(d, file, line, col, "", "%s %c%.*s: YAML anchors and aliases are not supported (write the "
		 "value out in full)", alias ? "an alias" : "an anchor", alias ? '*' : '&',
		 (int)(len > 64 ? 64 : len), name ? name : "");
}

/*
 * A single-quoted scalar holding an escaped quote ('') under n (keys included), or NULL.
 * libfyaml 0.9 underestimates the text of some of them and leaks the buffer of the try
 * that did not fit (found by fuzzing): the document is refused before any scalar of it is
 * read. text is what was parsed (the marks are offsets into it).
 */
static struct fy_node *find_escaped_single(struct fy_node *n, const char *text, size_t len, int depth)
{
	void *it = NULL;

	if (!n || depth > PBYAML_MAX_DEPTH)
		return NULL;
	if (fy_node_get_type(n) == FYNT_SCALAR) {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *a = t ? fy_token_start_mark(t) : NULL, *b = t ? fy_token_end_mark(t) : NULL;

		if (fy_node_get_style(n) != FYNS_SINGLE_QUOTED || !a || !b || a->input_pos >= b->input_pos ||
		    b->input_pos > len)
			return NULL;
		for (size_t i = a->input_pos + 1; i + 2 < b->input_pos; i++)
			if (text[i] == '\'' && text[i + 1] == '\'')
				return n;
		return NULL;
	}
	if (fy_node_get_type(n) == FYNT_MAPPING) {
		struct fy_node_pair *p;

		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			struct fy_node *r = find_escaped_single(fy_node_pair_key(p), text, len, depth + 1);

			if (r || (r = find_escaped_single(fy_node_pair_value(p), text, len, depth + 1)))
				return r;
		}
	} else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *c;

		while ((c = fy_node_sequence_iterate(n, &it)) != NULL) {
			struct fy_node *r = find_escaped_single(c, text, len, depth + 1);

			if (r)
				return r;
		}
	}
	return NULL;
}

/* Depth of the deepest collection; stops counting past the limit. */
static int depth_of(struct fy_node *n, int depth)
{
	int max = depth;
	void *it = NULL;

	if (!n || depth > PBYAML_MAX_DEPTH)
		return depth;
	if (fy_node_get_type(n) == FYNT_MAPPING) {
		struct fy_node_pair *p;

		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			int d = depth_of(fy_node_pair_value(p), depth + 1);

			max = d > max ? d : max;
			if (max > PBYAML_MAX_DEPTH)
				break;
		}
	} else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *c;

		while ((c = fy_node_sequence_iterate(n, &it)) != NULL) {
			int d = depth_of(c, depth + 1);

			max = d > max ? d : max;
			if (max > PBYAML_MAX_DEPTH)
				break;
		}
	}
	return max;
}

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes), or 0. Strict: no overlong
 * forms, no surrogates, nothing above U+10FFFF, and no NUL (YAML text cannot hold it).
 */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], min;
	size_t len;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

/* Rejects text that is not UTF-8 (libfyaml 0.7 can loop forever on some invalid bytes). */
static bool check_utf8(const char *file, const char *text, size_t len, struct diag *d)
{
	const unsigned char *p = (const unsigned char *)text;
	int line = 1, col = 1;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);

		if (n == 0) {
			diag_add(d, file, line, col, "", p[i] ? "not valid UTF-8 (byte 0x%02x)"
							      : "a NUL byte: not a text document", p[i]);
			return false;
		}
		if (p[i] == '\n')
			line++, col = 1;
		else
			col++;
		i += n;
	}
	return true;
}

/*
 * Rejects a tab before any YAML indicator character (block ones like "? ", ": ", "- ", ">",
 * "|", and flow, anchor, tag, quote and comment ones): libfyaml 0.7 reports such a tab as
 * indentation but then crashes when its parser is destroyed, and the fuzzer keeps finding
 * new indicators that do it. A tab before plain text (a value, block scalar content) stays
 * allowed; before an indicator a space does instead.
 */
static bool check_tab_indent(const char *file, const char *text, size_t len, struct diag *d)
{
	int line = 1, col = 1;

	/* Quotes and comments are not exempt: telling them apart is the parser's job, and
	 * guessing wrong here would let a crashing input through. */
	for (size_t i = 0; i < len; i++, col++) {
		size_t j = i + 1;

		if (text[i] == '\n') {
			line++, col = 0;
			continue;
		}
		if (text[i] != '\t')
			continue;
		while (j < len && (text[j] == ' ' || text[j] == '\t'))
			j++;
		if (j < len && text[j] != '\0' && strchr("-?:,[]{}#&*!|>'\"%@`", text[j])) {
			diag_add(d, file, line, col, "", "a tab before \"%c\": YAML indents with spaces only",
				 text[j]);
			return false;
		}
	}
	return true;
}

struct fy_document *pbyaml_parse(const char *file, const char *text, size_t len, struct diag *d)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_PARSE };
	struct fy_diag *fdiag;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc = NULL, *extra = NULL;

	if (len > PBYAML_MAX_DOC) {
		diag_add(d, file, 0, 0, "", "document is %zu bytes, more than the %u-byte limit", len,
			 PBYAML_MAX_DOC);
		return NULL;
	}
	if (!check_utf8(file, text, len, d) || !check_tab_indent(file, text, len, d))
		return NULL;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	fdiag = fy_diag_create(&dcfg);
	if (!fdiag)
		return NULL;
	fy_diag_set_collect_errors(fdiag, true);
	cfg.diag = fdiag;
	fyp = fy_parser_create(&cfg);
	if (!fyp || fy_parser_set_string(fyp, text, len) != 0)
		goto out;
	doc = fy_parse_load_document(fyp);
	if (doc && !fy_diag_got_error(fdiag)) {
		extra = fy_parse_load_document(fyp);
		if (extra) {
			int line = 0, col = 0;

			pbyaml_node_pos(fy_document_root(extra), &line, &col);
			diag_add(d, file, line, col, "", "a second YAML document: only one is read");
		}
	}
	if (fy_diag_got_error(fdiag) || !doc) {
		copy_fy_errors(fdiag, file, d);
		/* No error and no document: nothing but blanks and comments. */
		if (!doc && d->n == 0)
			diag_add(d, file, 0, 0, "", "empty document");
	} else if (depth_of(fy_document_root(doc), 0) > PBYAML_MAX_DEPTH) {
		diag_add(d, file, 0, 0, "", "nested more than %d levels deep", PBYAML_MAX_DEPTH);
	} else {
		struct fy_node *q = find_escaped_single(fy_document_root(doc), text, len, 0);

		refuse_references(fy_document_root(doc), file, d);
		if (q) {
			int line = 0, col = 0;

			pbyaml_node_pos(q, &line, &col);
			diag_add(d, file, line, col, "", "a single-quoted string with an escaped quote ('') is not "
				 "supported: write it in double quotes (\"it's\")");
		}
	}
out:
	if (extra)
		fy_parse_document_destroy(fyp, extra);
	if (doc && !diag_ok(d)) {
		fy_parse_document_destroy(fyp, doc);
		doc = NULL;
	}
	/* The document outlives its parser; the diag is reference counted. Turning collection
	 * off is what frees the collected errors (libfyaml 0.7 keeps them otherwise). */
	fy_diag_set_collect_errors(fdiag, false);
	if (fyp)
		fy_parser_destroy(fyp);
	fy_diag_unref(fdiag);
	return doc;
}

/* --- decoding --- */

size_t jptr_push(struct jptr *p, const char *seg)
{
	size_t old = p->len;

	if (p->len + 1 < sizeof(p->buf))
		p->buf[p->len++] = '/';
	for (; *seg && p->len + 2 < sizeof(p->buf); seg++) {
		if (*seg == '~' || *seg == '/') {
			p->buf[p->len++] = '~';
			p->buf[p->len++] = *seg == '~' ? '0' : '1';
		} else {
			p->buf[p->len++] = *seg;
		}
	}
	p->buf[p->len] = '\0';
	return old;
}

size_t jptr_push_index(struct jptr *p, size_t i)
{
	char num[24];

	snprintf(num, sizeof(num), "%zu", i);
	return jptr_push(p, num);
}

void jptr_pop(struct jptr *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

struct dec {
	struct pbyaml_ctx *c;
	struct jptr path;
	int errors;
};

__attribute__((format(printf, 3, 4))) static void dec_error(struct dec *d, struct fy_node *at,
							     const char *fmt, ...)
{
	char msg[384];
	int line = 0, col = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pbyaml_node_pos(at, &line, &col);
	diag_add(d->c->diag, pbyaml_node_file(at, d->c->file), line, col, d->path.buf, "%s", msg);
	d->errors++;
}

static void record(struct dec *d, struct fy_node *n)
{
	int line, col;

	if (d->c->sm && pbyaml_node_pos(n, &line, &col))
		srcmap_put(d->c->sm, d->path.buf, pbyaml_node_file(n, d->c->file), line, col);
}

static bool is_map_entry(const ProtobufCMessageDescriptor *m)
{
	size_t n = strlen(m->name);

	return m->n_fields == 2 && n > 5 && strcmp(m->name + n - 5, "Entry") == 0 &&
	       strcmp(m->fields[0].name, "key") == 0 && strcmp(m->fields[1].name, "value") == 0;
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;  /* 32-bit integers, enums, float, protobuf_c_boolean */
	}
}

static const char *scalar(struct fy_node *n, size_t *len)
{
	const char *s = fy_node_get_scalar(n, len);

	return s ? s : "";
}

static bool parse_bool(const char *s, size_t len, protobuf_c_boolean *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strlen(yes[i]) == len && memcmp(s, yes[i], len) == 0) {
			*out = 1;
			return true;
		}
		if (strlen(no[i]) == len && memcmp(s, no[i], len) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/* Integers: decimal, 0x hex, 0o or leading-0 octal (file modes), 0b binary, optional sign. */
static bool parse_int(const char *s, size_t len, bool *neg, uint64_t *mag)
{
	char buf[80], *end;
	const char *p = buf;
	int base = 10;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!isalnum((unsigned char)*p))
		return false;
	errno = 0;
	*mag = strtoull(p, &end, base);
	return *end == '\0' && errno == 0;
}

static bool int_in_range(ProtobufCType t, bool neg, uint64_t mag, const char **tname)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*tname = "int32";
		return neg ? mag <= (uint64_t)INT32_MAX + 1 : mag <= INT32_MAX;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*tname = "uint32";
		return !neg && mag <= UINT32_MAX;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*tname = "uint64";
		return !neg || mag == 0;
	default:
		*tname = "int64";
		return neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= INT64_MAX;
	}
}

static int decode_message(struct dec *d, struct fy_node *n, const ProtobufCMessageDescriptor *desc,
			  ProtobufCMessage *msg);

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m = malloc(desc->sizeof_message);

	if (m)
		desc->message_init(m);
	return m;
}

/* Decodes one scalar or message value into slot (an element of the field's type). */
static int decode_value(struct dec *d, struct fy_node *n, const ProtobufCFieldDescriptor *f,
			void *slot)
{
	const char *s, *tname;
	size_t len;
	bool neg;
	uint64_t mag;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sub = new_message(f->descriptor);

		if (!sub)
			return -ENOMEM;
		*(ProtobufCMessage **)slot = sub;
		return decode_message(d, n, f->descriptor, sub);
	}
	if (fy_node_get_type(n) != FYNT_SCALAR) {
		dec_error(d, n, "expected %s, got %s",
			  f->type == PROTOBUF_C_TYPE_BOOL ? "true or false"
			  : f->type == PROTOBUF_C_TYPE_STRING ? "a string" : "a number",
			  node_kind(n));
		return 1;
	}
	s = scalar(n, &len);
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *copy = strndup(s, len);

		if (!copy)
			return -ENOMEM;
		*(char **)slot = copy;
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!parse_bool(s, len, slot)) {
			dec_error(d, n, "\"%.*s\" is not a boolean (true or false)", (int)(len > 64 ? 64 : len), s);
			return 1;
		}
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		char name[128];
		const ProtobufCEnumValue *v;

		snprintf(name, sizeof(name), "%.*s", (int)len, s);
		v = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name);
		if (!v) {
			dec_error(d, n, "\"%s\" is not a known value", name);
			return 1;
		}
		*(int *)slot = v->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		char buf[64], *end;
		double v;

		snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
		v = strtod(buf, &end);
		if (len == 0 || len >= sizeof(buf) || *end) {
			dec_error(d, n, "\"%.*s\" is not a number", (int)(len > 64 ? 64 : len), s);
			return 1;
		}
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)slot = (float)v;
		else
			*(double *)slot = v;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES:
		dec_error(d, n, "binary fields cannot be set from YAML");
		return 1;
	default:
		break;
	}
	if (!parse_int(s, len, &neg, &mag)) {
		dec_error(d, n, "\"%.*s\" is not an integer", (int)(len > 64 ? 64 : len), s);
		return 1;
	}
	if (!int_in_range(f->type, neg, mag, &tname)) {
		dec_error(d, n, "%.*s is out of range for %s", (int)(len > 64 ? 64 : len), s, tname);
		return 1;
	}
	if (elem_size(f->type) == 8)
		*(uint64_t *)slot = neg ? (uint64_t)0 - mag : mag;
	else
		*(uint32_t *)slot = (uint32_t)(neg ? (uint64_t)0 - mag : mag);
	return 0;
}

/* Grows a repeated field by one zeroed element; returns the new element. */
static void *repeated_add(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
	void **arr = (void **)((char *)msg + f->offset);
	size_t es = elem_size(f->type);
	char *grown = realloc(*arr, (*count + 1) * es);

	if (!grown)
		return NULL;
	*arr = grown;
	memset(grown + *count * es, 0, es);
	return grown + (*count)++ * es;
}

static int decode_map(struct dec *d, struct fy_node *n, const ProtobufCFieldDescriptor *f,
		      ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	struct fy_node_pair *p;
	void *it = NULL;
	int r = 0;

	if (fy_node_get_type(n) != FYNT_MAPPING) {
		dec_error(d, n, "expected a mapping of names to values, got %s", node_kind(n));
		return 1;
	}
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
		ProtobufCMessage *entry, **slot;
		size_t klen, old;
		const char *key;
		char *keycopy;

		if (!k || fy_node_get_type(k) != FYNT_SCALAR) {
			dec_error(d, k, "keys must be strings");
			continue;
		}
		key = scalar(k, &klen);
		keycopy = strndup(key, klen);
		old = jptr_push(&d->path, keycopy ? keycopy : "?");
		record(d, v ? v : k);
		entry = new_message(ed);
		slot = repeated_add(msg, f);
		if (!entry || !slot || !keycopy) {
			free(entry);
			free(keycopy);
			return -ENOMEM;
		}
		*slot = entry;
		*(char **)((char *)entry + ed->fields[0].offset) = keycopy;
		r = 0;
		if (v && !pbyaml_is_null(v)) {
			r = decode_value(d, v, &ed->fields[1], (char *)entry + ed->fields[1].offset);
			if (r < 0)
				return r;
		} else {
			dec_error(d, k, "%s has no value", keycopy);
			r = 1;
		}
		/* Only entries with a value: consumers of a map never meet a NULL value. */
		if (r > 0) {
			protobuf_c_message_free_unpacked(entry, NULL);
			(*(size_t *)((char *)msg + f->quantifier_offset))--;
		}
		jptr_pop(&d->path, old);
	}
	return 0;
}

static int decode_repeated(struct dec *d, struct fy_node *n, const ProtobufCFieldDescriptor *f,
			   ProtobufCMessage *msg)
{
	struct fy_node *item;
	void *it = NULL;
	size_t i = 0;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor))
		return decode_map(d, n, f, msg);
	if (fy_node_get_type(n) != FYNT_SEQUENCE) {
		dec_error(d, n, "expected a list, got %s", node_kind(n));
		return 1;
	}
	while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
		size_t old = jptr_push_index(&d->path, i++);
		void *slot;
		int r;

		record(d, item);
		if (pbyaml_is_null(item)) {
			dec_error(d, item, "empty list item");
			jptr_pop(&d->path, old);
			continue;
		}
		slot = repeated_add(msg, f);
		if (!slot)
			return -ENOMEM;
		r = decode_value(d, item, f, slot);
		if (r < 0)
			return r;
		/* A scalar that failed to decode leaves nothing behind: no NULL string in a
		 * list for the validator to trip on. A message keeps the fields that did decode. */
		if (r > 0 && f->type != PROTOBUF_C_TYPE_MESSAGE)
			(*(size_t *)((char *)msg + f->quantifier_offset))--;
		jptr_pop(&d->path, old);
	}
	return 0;
}

static void unknown_field(struct dec *d, struct fy_node *key, const char *name,
			  const ProtobufCMessageDescriptor *desc)
{
	const char *names[128];
	size_t n = desc->n_fields < 128 ? desc->n_fields : 128;
	const char *hint;

	for (size_t i = 0; i < n; i++)
		names[i] = desc->fields[i].name;
	hint = pbyaml_suggest(name, names, n);
	if (hint)
		dec_error(d, key, "unknown field \"%s\" (did you mean \"%s\"?)", name, hint);
	else
		dec_error(d, key, "unknown field \"%s\"", name);
}

static int decode_message(struct dec *d, struct fy_node *n, const ProtobufCMessageDescriptor *desc,
			  ProtobufCMessage *msg)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (fy_node_get_type(n) != FYNT_MAPPING) {
		dec_error(d, n, "expected a mapping, got %s", node_kind(n));
		return 1;
	}
	while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
		const ProtobufCFieldDescriptor *f;
		char name[128];
		size_t klen, old;
		const char *key;
		int r;

		if (!k || fy_node_get_type(k) != FYNT_SCALAR) {
			dec_error(d, k ? k : n, "keys must be strings");
			continue;
		}
		key = scalar(k, &klen);
		snprintf(name, sizeof(name), "%.*s", (int)klen, key);
		old = jptr_push(&d->path, name);
		f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
		if (!f) {
			unknown_field(d, k, name, desc);
		} else if (v && !pbyaml_is_null(v)) {
			record(d, v);
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				r = decode_repeated(d, v, f, msg);
			} else {
				r = decode_value(d, v, f, (char *)msg + f->offset);
				if (r == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
				    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
					*(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
			}
			if (r < 0)
				return r;
		} else {
			record(d, k);
		}
		jptr_pop(&d->path, old);
	}
	return 0;
}

int pbyaml_decode(struct pbyaml_ctx *c, struct fy_node *node,
		  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	struct dec d = { .c = c };
	int r;

	*out = new_message(desc);
	if (!*out)
		return -ENOMEM;
	if (!node) {
		diag_add(c->diag, c->file, 0, 0, "", "empty document");
		return -EINVAL;
	}
	record(&d, node);
	r = decode_message(&d, node, desc, *out);
	if (r < 0)
		return r;
	return d.errors ? -EINVAL : 0;
}

/* --- encoding --- */

/* Plain YAML would read some strings as another type, or not read them at all. */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = { "true",  "false", "yes", "no", "on", "off", "null",
					     "True",  "False", "Yes", "No", "On", "Off", "Null",
					     "TRUE",  "FALSE", "YES", "NO", "ON", "OFF", "NULL", "~" };
	size_t n = strlen(s);
	char *end;

	if (n == 0 || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]) ||
	    strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) || strstr(s, ": ") || strstr(s, " #") ||
	    s[n - 1] == ':')
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	strtod(s, &end);
	if (*end == '\0')
		return true;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return true;
	/* Bytes that are not UTF-8 (protobuf-c does not check strings) are escaped. */
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq((const unsigned char *)s + i, n - i)))
			return true;
	return false;
}

/* A YAML double-quoted scalar for s: the emitter keeps the style of a node built this way. */
static struct fy_node *quoted_node(struct fy_document *fyd, const char *s)
{
	size_t n = strlen(s), cap = 2 * n * 4 + 3, len = 0;
	char *q = malloc(cap);

	if (!q)
		return NULL;
	q[len++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t k = utf8_seq(p, n - (size_t)(p - (const unsigned char *)s));

		if (k > 1) {
			memcpy(q + len, p, k);
			len += k;
			p += k - 1;
		} else if (k == 0) {
			/* Not UTF-8: as an escape (U+00NN), so the document stays valid text. */
			len += (size_t)snprintf(q + len, cap - len, "\\x%02x", *p);
		} else if (*p == '"' || *p == '\\') {
			q[len++] = '\\';
			q[len++] = (char)*p;
		} else if (*p == '\n') {
			q[len++] = '\\';
			q[len++] = 'n';
		} else if (*p == '\t') {
			q[len++] = '\\';
			q[len++] = 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			len += (size_t)snprintf(q + len, cap - len, "\\x%02x", *p);
		} else {
			q[len++] = (char)*p;
		}
	}
	q[len++] = '"';
	/* Ownership of q passes to the document, even when building fails (libfyaml has
	 * attached it by then and frees it with the document: freeing it here was a double
	 * free, found by fuzz_osctl with a string that was not UTF-8). */
	return fy_node_build_from_malloc_string(fyd, q, len);
}

static struct fy_node *str_node(struct fy_document *fyd, const char *s, bool json)
{
	if (json || needs_quotes(s))
		return quoted_node(fyd, s);
	return fy_node_create_scalar_copy(fyd, s, strlen(s));
}

static struct fy_node *value_node(struct fy_document *fyd, const ProtobufCFieldDescriptor *f,
				  const void *slot, bool json)
{
	char buf[64];

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)slot;

		return m ? pbyaml_node(fyd, m, json) : fy_node_create_mapping(fyd);
	}
	case PROTOBUF_C_TYPE_STRING:
		return str_node(fyd, *(const char *const *)slot ? *(const char *const *)slot : "", json);
	case PROTOBUF_C_TYPE_BOOL:
		return fy_node_create_scalar(fyd, *(const protobuf_c_boolean *)slot ? "true" : "false",
					     FY_NT);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)slot);

		if (v)
			return str_node(fyd, v->name, json);
		snprintf(buf, sizeof(buf), "%d", *(const int *)slot);
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		/* File modes read best in octal, as people write them (JSON has no octal). */
		if (!json && strcmp(f->name, "permissions") == 0)
			snprintf(buf, sizeof(buf), "0o%" PRIo32, *(const uint32_t *)slot);
		else
			snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		snprintf(buf, sizeof(buf), "%.9g", (double)*(const float *)slot);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		snprintf(buf, sizeof(buf), "%.17g", *(const double *)slot);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = slot;

		snprintf(buf, sizeof(buf), "<%zu bytes>", b->len);
		return str_node(fyd, buf, json);
	}
	}
	return fy_node_create_scalar_copy(fyd, buf, strlen(buf));
}

/* Whether a singular field carries a value worth writing out. */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *member = (const char *)msg + f->offset;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(ProtobufCMessage *const *)member != NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)member;

		/* proto3 strings are never absent, only empty; empty adds nothing. */
		return s && (f->label == PROTOBUF_C_LABEL_OPTIONAL || s[0]);
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
		return *(const protobuf_c_boolean *)((const char *)msg + f->quantifier_offset);
	return true;
}

/* Appends k: v to map; a pair libfyaml refuses (a key already there: a protobuf map may
 * repeat one on the wire, and the first is shown) is freed, not left unowned. */
static void map_put(struct fy_node *map, struct fy_node *k, struct fy_node *v)
{
	if (fy_node_mapping_append(map, k, v) != 0) {
		fy_node_free(k);
		fy_node_free(v);
	}
}

static void seq_put(struct fy_node *seq, struct fy_node *v)
{
	if (fy_node_sequence_append(seq, v) != 0)
		fy_node_free(v);
}

static struct fy_node *repeated_node(struct fy_document *fyd, const ProtobufCMessage *msg,
				     const ProtobufCFieldDescriptor *f, bool json)
{
	size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
	const char *arr = *(const char *const *)((const char *)msg + f->offset);
	size_t es = elem_size(f->type);
	bool map = f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor);
	struct fy_node *out = map ? fy_node_create_mapping(fyd) : fy_node_create_sequence(fyd);

	for (size_t i = 0; out && i < n; i++) {
		const void *slot = arr + i * es;

		if (map) {
			const ProtobufCMessage *e = *(ProtobufCMessage *const *)slot;
			const ProtobufCMessageDescriptor *ed = f->descriptor;
			const char *key = *(const char *const *)((const char *)e + ed->fields[0].offset);

			map_put(out, str_node(fyd, key ? key : "", json),
				value_node(fyd, &ed->fields[1], (const char *)e + ed->fields[1].offset, json));
		} else {
			seq_put(out, value_node(fyd, f, slot, json));
		}
	}
	return out;
}

struct fy_node *pbyaml_node(struct fy_document *fyd, const ProtobufCMessage *msg, bool json)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	struct fy_node *map = fy_node_create_mapping(fyd);

	for (unsigned i = 0; map && i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		struct fy_node *v;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (*(const size_t *)((const char *)msg + f->quantifier_offset) == 0)
				continue;
			v = repeated_node(fyd, msg, f, json);
		} else {
			if (!field_present(msg, f))
				continue;
			v = value_node(fyd, f, (const char *)msg + f->offset, json);
		}
		map_put(map, fy_node_create_scalar(fyd, f->name, FY_NT), v);
	}
	return map;
}

static void json_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);  /* UTF-8 passes through: JSON text is UTF-8 */
	}
	fputc('"', f);
}

/* A plain scalar JSON takes as written: true, false, null, or a JSON number. */
static bool json_literal(const char *s, size_t n)
{
	size_t i = 0;

	if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "null", 4))) || (n == 5 && !memcmp(s, "false", 5)))
		return true;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < n && s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

struct jsonout {
	FILE *f;
	bool line;      /* one line, no indentation */
	bool parsed;    /* a tree read from text: a plain scalar is a literal only if it reads as one */
};

static void json_sep(const struct jsonout *o, bool first, int indent)
{
	if (o->line)
		fputs(first ? "" : ",", o->f);
	else
		fprintf(o->f, "%s\n%*s", first ? "" : ",", indent, "");
}

/*
 * JSON from a tree: a quoted scalar is a string; a plain one a number, boolean or null as
 * written (for a parsed tree only when it reads as one, else a string; an empty one null).
 * Written here rather than by libfyaml's JSON mode, which leaks on some escaped strings and
 * crashes on an empty block scalar ("b: >").
 */
static void json_node(const struct jsonout *o, struct fy_node *n, int indent)
{
	void *it = NULL;
	bool first = true;
	size_t len;
	const char *s;

	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		s = fy_node_get_scalar(n, &len);
		/* YAML text holds no NUL; libfyaml hands an empty block scalar back as one. */
		len = s ? strnlen(s, len) : 0;
		if (fy_node_get_style(n) == FYNS_PLAIN && !len && o->parsed)
			fputs("null", o->f);
		else if (fy_node_get_style(n) == FYNS_PLAIN && len && (!o->parsed || json_literal(s, len)))
			fwrite(s, 1, len, o->f);
		else
			json_string(o->f, s ? s : "", s ? len : 0);
		return;
	case FYNT_MAPPING: {
		struct fy_node_pair *p;

		fputc('{', o->f);
		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			struct fy_node *k = fy_node_pair_key(p);

			s = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
			json_sep(o, first, indent + 2);
			json_string(o->f, s ? s : "", s ? len : 0);
			fputs(o->line ? ":" : ": ", o->f);
			json_node(o, fy_node_pair_value(p), indent + 2);
			first = false;
		}
		if (!first && !o->line)
			fprintf(o->f, "\n%*s", indent, "");
		fputc('}', o->f);
		return;
	}
	case FYNT_SEQUENCE: {
		struct fy_node *c;

		fputc('[', o->f);
		while ((c = fy_node_sequence_iterate(n, &it)) != NULL) {
			json_sep(o, first, indent + 2);
			json_node(o, c, indent + 2);
			first = false;
		}
		if (!first && !o->line)
			fprintf(o->f, "\n%*s", indent, "");
		fputc(']', o->f);
		return;
	}
	}
}

static char *json_text(struct fy_node *node, bool line, bool parsed)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct jsonout o = { f, line, parsed };

	if (!f)
		return NULL;
	if (node)
		json_node(&o, node, 0);
	else
		fputs("null", f);
	if (!line)
		fputc('\n', f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *pbyaml_json_line(struct fy_node *node)
{
	return json_text(node, true, true);
}

char *pbyaml_emit_node(struct fy_node *node, bool json)
{
	enum fy_emitter_cfg_flags flags = FYECF_MODE_BLOCK | FYECF_INDENT_2 | FYECF_WIDTH_INF;
	char *s, *t;

	if (json)
		return json_text(node, false, false);
	s = fy_emit_node_to_string(node, flags);
	size_t n;

	/* Text files end with a newline; the emitter leaves it off. */
	if (!s)
		return NULL;
	n = strlen(s);
	if (n && s[n - 1] == '\n')
		return s;
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

char *pbyaml_emit(const ProtobufCMessage *msg, bool json)
{
	struct fy_document *fyd = fy_document_create(NULL);
	struct fy_node *root;
	char *out = NULL;

	if (!fyd)
		return NULL;
	root = pbyaml_node(fyd, msg, json);
	if (root && fy_document_set_root(fyd, root) == 0)
		out = pbyaml_emit_node(root, json);
	fy_document_destroy(fyd);
	return out;
}

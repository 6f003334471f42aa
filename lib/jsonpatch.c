/* SPDX-License-Identifier: MIT */
#include "lib/jsonpatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pbyaml.h"

#define SEG_MAX 256

/* Copies n from a patch into fyd, remembering which patch it came from. */
static struct fy_node *import(struct fy_document *fyd, struct fy_node *n, const char *file)
{
	struct fy_node *copy = fy_node_copy(fyd, n);

	if (copy)
		pbyaml_tag(fyd, copy, file);
	return copy;
}

/* --- RFC 7386: JSON merge patch --- */

static struct fy_node *merge(struct fy_document *fyd, struct fy_node *target, struct fy_node *patch,
			     const char *file, int depth)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (!patch || fy_node_get_type(patch) != FYNT_MAPPING || depth > PBYAML_MAX_DEPTH)
		return import(fyd, patch, file);
	if (!target || fy_node_get_type(target) != FYNT_MAPPING)
		target = fy_node_create_mapping(fyd);
	while (target && (p = fy_node_mapping_iterate(patch, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
		const char *key;
		size_t klen;
		struct fy_node_pair *tp;

		if (!k || fy_node_get_type(k) != FYNT_SCALAR)
			continue;
		key = fy_node_get_scalar(k, &klen);
		tp = fy_node_mapping_lookup_pair_by_simple_key(target, key, klen);
		if (pbyaml_is_null(v)) {
			/* remove_by_key frees the pair and key, and hands back the value to free. */
			if (tp)
				fy_node_free(fy_node_mapping_remove_by_key(target, fy_node_pair_key(tp)));
			continue;
		}
		if (tp) {
			struct fy_node *merged = merge(fyd, fy_node_pair_value(tp), v, file, depth + 1);

			if (merged != fy_node_pair_value(tp))
				fy_node_pair_set_value(tp, merged);
		} else {
			fy_node_mapping_append(target, import(fyd, k, file),
					       merge(fyd, NULL, v, file, depth + 1));
		}
	}
	return target;
}

/* --- RFC 6902: JSON patch, with RFC 6901 pointers --- */

struct op_ctx {
	struct fy_document *fyd;
	const char *file;
	struct diag *d;
	struct fy_node *opnode;  /* for positions */
	char where[32];          /* "/3": the operation's index in the patch */
	const char *opname;
};

__attribute__((format(printf, 2, 3))) static int op_error(struct op_ctx *o, const char *fmt, ...)
{
	char msg[384];
	int line = 0, col = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pbyaml_node_pos(o->opnode, &line, &col);
	diag_add(o->d, o->file, line, col, o->where, "%s: %s", o->opname, msg);
	return -EINVAL;
}

/* Splits pointer into unescaped segments; returns the count or -1 when malformed. */
static int split_pointer(const char *ptr, char segs[][SEG_MAX], int max)
{
	int n = 0;

	if (*ptr == '\0')
		return 0;
	if (*ptr != '/')
		return -1;
	while (*ptr == '/') {
		size_t len = 0;

		ptr++;
		if (n == max)
			return -1;
		while (*ptr && *ptr != '/') {
			char c = *ptr++;

			if (c == '~') {
				if (*ptr != '0' && *ptr != '1')
					return -1;
				c = *ptr++ == '0' ? '~' : '/';
			}
			if (len + 1 >= SEG_MAX)
				return -1;
			segs[n][len++] = c;
		}
		segs[n++][len] = '\0';
	}
	return n;
}

/* An array index: digits without a leading zero, below count (or equal when allow_end). */
static long seq_index(const char *seg, int count, bool allow_end)
{
	char *end;
	long i;

	if (allow_end && strcmp(seg, "-") == 0)
		return count;
	if (!*seg || (seg[0] == '0' && seg[1]) || seg[0] < '0' || seg[0] > '9')
		return -1;
	i = strtol(seg, &end, 10);
	if (*end || i > count || (i == count && !allow_end))
		return -1;
	return i;
}

static struct fy_node *child(struct fy_node *n, const char *seg)
{
	if (!n)
		return NULL;
	if (fy_node_get_type(n) == FYNT_MAPPING)
		return fy_node_mapping_lookup_value_by_simple_key(n, seg, strlen(seg));
	if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		long i = seq_index(seg, fy_node_sequence_item_count(n), false);

		return i < 0 ? NULL : fy_node_sequence_get_by_index(n, (int)i);
	}
	return NULL;
}

/* Resolves all but the last segment: the container the operation acts in. */
static struct fy_node *resolve_parent(struct op_ctx *o, const char *ptr, char segs[][SEG_MAX],
				      int *nsegs)
{
	struct fy_node *n = fy_document_root(o->fyd);

	*nsegs = split_pointer(ptr, segs, 64);
	if (*nsegs < 0) {
		op_error(o, "\"%s\" is not a JSON pointer", ptr);
		return NULL;
	}
	for (int i = 0; i + 1 < *nsegs; i++) {
		n = child(n, segs[i]);
		if (!n) {
			op_error(o, "path \"%s\" does not exist", ptr);
			return NULL;
		}
	}
	return n;
}

static struct fy_node *get(struct op_ctx *o, const char *ptr)
{
	char segs[64][SEG_MAX];
	int n;
	struct fy_node *parent = resolve_parent(o, ptr, segs, &n), *v;

	if (n == 0)
		return fy_document_root(o->fyd);
	if (!parent)
		return NULL;
	v = child(parent, segs[n - 1]);
	if (!v)
		op_error(o, "path \"%s\" does not exist", ptr);
	return v;
}

/* Removes what ptr names and returns it (caller frees), or NULL with an error. */
static struct fy_node *detach(struct op_ctx *o, const char *ptr)
{
	char segs[64][SEG_MAX];
	int n;
	struct fy_node *parent = resolve_parent(o, ptr, segs, &n), *v;

	if (!parent)
		return NULL;
	if (n == 0) {
		op_error(o, "cannot remove the whole document");
		return NULL;
	}
	v = child(parent, segs[n - 1]);
	if (!v) {
		op_error(o, "path \"%s\" does not exist", ptr);
		return NULL;
	}
	if (fy_node_get_type(parent) == FYNT_SEQUENCE)
		return fy_node_sequence_remove(parent, v);
	return fy_node_mapping_remove_by_key(
		parent, fy_node_mapping_lookup_key_by_string(parent, segs[n - 1], strlen(segs[n - 1])));
}

/* Puts value at ptr: sets a member, or inserts into a list. */
static int place(struct op_ctx *o, const char *ptr, struct fy_node *value, bool replace_only)
{
	char segs[64][SEG_MAX];
	int n;
	struct fy_node *parent = resolve_parent(o, ptr, segs, &n);

	if (!parent)
		return -EINVAL;
	if (n == 0)
		return fy_document_set_root(o->fyd, value) == 0 ? 0 : -ENOMEM;
	if (fy_node_get_type(parent) == FYNT_MAPPING) {
		const char *k = segs[n - 1];
		struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_simple_key(parent, k, strlen(k));

		if (p)
			return fy_node_pair_set_value(p, value) == 0 ? 0 : -ENOMEM;
		if (replace_only)
			return op_error(o, "path \"%s\" does not exist", ptr);
		return fy_node_mapping_append(parent, fy_node_create_scalar_copy(o->fyd, k, strlen(k)),
					      value) == 0 ? 0 : -ENOMEM;
	}
	if (fy_node_get_type(parent) == FYNT_SEQUENCE) {
		int count = fy_node_sequence_item_count(parent);
		long i = seq_index(segs[n - 1], count, !replace_only);

		if (i < 0)
			return op_error(o, "\"%s\" is not an index of the list at \"%s\" (%d items)",
					segs[n - 1], ptr, count);
		if (replace_only) {
			struct fy_node *old = fy_node_sequence_get_by_index(parent, (int)i);

			if (fy_node_sequence_insert_before(parent, old, value) != 0)
				return -ENOMEM;
			fy_node_free(fy_node_sequence_remove(parent, old));
			return 0;
		}
		if (i == count)
			return fy_node_sequence_append(parent, value) == 0 ? 0 : -ENOMEM;
		return fy_node_sequence_insert_before(parent, fy_node_sequence_get_by_index(parent, (int)i),
						      value) == 0 ? 0 : -ENOMEM;
	}
	return op_error(o, "the parent of \"%s\" is a scalar", ptr);
}

/* Adds value (taken over: freed if it cannot be placed) at ptr. */
static int add(struct op_ctx *o, const char *ptr, struct fy_node *value, bool replace_only)
{
	int r = value ? place(o, ptr, value, replace_only) : -ENOMEM;

	if (r < 0)
		fy_node_free(value);
	return r;
}

static const char *member(struct fy_node *op, const char *name, struct fy_node **node)
{
	struct fy_node *v = fy_node_mapping_lookup_value_by_simple_key(op, name, strlen(name));

	if (node)
		*node = v;
	if (!v || fy_node_get_type(v) != FYNT_SCALAR)
		return NULL;
	return fy_node_get_scalar0(v);
}

static int apply_op(struct op_ctx *o, struct fy_node *op)
{
	struct fy_node *value = NULL, *at;
	const char *path, *from;
	bool has_value;

	o->opname = "operation";
	if (fy_node_get_type(op) != FYNT_MAPPING)
		return op_error(o, "expected a mapping with op and path");
	o->opname = member(op, "op", NULL);
	if (!o->opname) {
		o->opname = "operation";
		return op_error(o, "missing \"op\"");
	}
	path = member(op, "path", NULL);
	if (!path)
		return op_error(o, "missing \"path\"");
	from = member(op, "from", NULL);
	has_value = fy_node_mapping_lookup_pair_by_simple_key(op, "value", 5) != NULL;
	if (has_value)
		value = fy_node_mapping_lookup_value_by_simple_key(op, "value", 5);

	if (strcmp(o->opname, "add") == 0 || strcmp(o->opname, "replace") == 0) {
		if (!has_value)
			return op_error(o, "missing \"value\"");
		if (strcmp(o->opname, "replace") == 0 && !get(o, path))
			return -EINVAL;
		return add(o, path, value ? import(o->fyd, value, o->file)
					  : fy_node_create_scalar(o->fyd, "", 0),
			   strcmp(o->opname, "replace") == 0);
	}
	if (strcmp(o->opname, "remove") == 0) {
		at = detach(o, path);
		if (!at)
			return -EINVAL;
		fy_node_free(at);
		return 0;
	}
	if (strcmp(o->opname, "move") == 0 || strcmp(o->opname, "copy") == 0) {
		bool move = o->opname[0] == 'm';

		if (!from)
			return op_error(o, "missing \"from\"");
		if (move && strncmp(path, from, strlen(from)) == 0 && path[strlen(from)] == '/')
			return op_error(o, "cannot move \"%s\" into itself", from);
		at = move ? detach(o, from) : get(o, from);
		if (!at)
			return -EINVAL;
		return add(o, path, move ? at : fy_node_copy(o->fyd, at), false);
	}
	if (strcmp(o->opname, "test") == 0) {
		if (!has_value)
			return op_error(o, "missing \"value\"");
		at = get(o, path);
		if (!at)
			return -EINVAL;
		if (!fy_node_compare(at, value))
			return op_error(o, "value at \"%s\" differs", path);
		return 0;
	}
	return op_error(o, "unknown operation (add, remove, replace, move, copy or test)");
}

int jsonpatch_apply(struct fy_document *target, const char *file, const char *text, size_t len,
		    struct diag *d)
{
	struct fy_document *patch = pbyaml_parse(file, text, len, d);
	struct fy_node *root;
	int r = 0;

	if (!patch)
		return -EINVAL;
	root = fy_document_root(patch);
	if (root && fy_node_get_type(root) == FYNT_SEQUENCE) {
		struct op_ctx o = { .fyd = target, .file = file, .d = d };
		struct fy_node *op;
		void *it = NULL;
		int i = 0;

		/* Operations apply in order; the first failure stops the patch (RFC 6902 4.). */
		while (r == 0 && (op = fy_node_sequence_iterate(root, &it)) != NULL) {
			o.opnode = op;
			snprintf(o.where, sizeof(o.where), "/%d", i++);
			r = apply_op(&o, op);
		}
	} else if (root && fy_node_get_type(root) == FYNT_MAPPING) {
		struct fy_node *merged = merge(target, fy_document_root(target), root, file, 0);

		if (merged != fy_document_root(target) && fy_document_set_root(target, merged) != 0)
			r = -ENOMEM;
	} else {
		diag_add(d, file, 0, 0, "", "a patch is a mapping (RFC 7386 merge patch) or a list of "
					    "operations (RFC 6902 JSON patch)");
		r = -EINVAL;
	}
	fy_document_destroy(patch);
	return r;
}

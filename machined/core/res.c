/* SPDX-License-Identifier: MIT */
#include "machined/core/res.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool res_spec_complete(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *member = (const char *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *arr = *(void *const *const *)member;

			if (n && !arr)
				return false;
			if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
				continue;
			for (size_t k = 0; k < n; k++)
				if (!arr[k] || (f->type == PROTOBUF_C_TYPE_MESSAGE && !res_spec_complete(arr[k])))
					return false;
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			/* proto3: an unset string is "", never NULL; NULL is a failed strdup. */
			if (f->label == PROTOBUF_C_LABEL_NONE && !*(char *const *)member)
				return false;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage *const *)member) {
			if (!res_spec_complete(*(ProtobufCMessage *const *)member))
				return false;
		}
	}
	return true;
}

struct res *res_new(const struct res_type *t, const char *id, ProtobufCMessage *spec)
{
	struct res *r = calloc(1, sizeof(*r));

	if (!r)
		goto fail;
	r->refs = 1;
	r->t = t;
	r->ns = t->ns;
	r->type = t->type;
	r->id = strdup(id);
	r->owner = strdup("");
	if (!r->id || !r->owner)
		goto fail;
	r->spec = spec;
	return r;
fail:
	if (r) {
		r->spec = NULL;
		res_unref(r);
	}
	if (spec)
		protobuf_c_message_free_unpacked(spec, NULL);
	return NULL;
}

const void *res_spec(const struct res *r, const struct res_type *t)
{
	if (!r || r->t != t || !r->spec || r->spec->descriptor != t->spec)
		return NULL;
	return r->spec;
}

struct res *res_clone(const struct res *src, ProtobufCMessage *spec)
{
	struct res *r;

	if (!spec && src->spec) {
		spec = res_spec_copy(src->spec);
		if (!spec)
			return NULL;
	}
	r = res_new(src->t, src->id, spec);
	if (!r)
		return NULL;
	r->version = src->version;
	r->phase = src->phase;
	r->created_ms = src->created_ms;
	r->updated_ms = src->updated_ms;
	r->stamp = src->stamp;
	free(r->owner);
	r->owner = strdup(src->owner);
	if (!r->owner)
		goto fail;
	for (size_t i = 0; i < src->nlabels; i++)
		if (res_set_label(r, src->labels[i].key, src->labels[i].value) < 0)
			goto fail;
	for (size_t i = 0; i < src->nfinalizers; i++)
		if (res_add_finalizer(r, src->finalizers[i]) < 0)
			goto fail;
	return r;
fail:
	res_unref(r);
	return NULL;
}

struct res *res_ref(struct res *r)
{
	if (r)
		r->refs++;
	return r;
}

void res_unref(struct res *r)
{
	if (!r || --r->refs > 0)
		return;
	for (size_t i = 0; i < r->nlabels; i++) {
		free(r->labels[i].key);
		free(r->labels[i].value);
	}
	for (size_t i = 0; i < r->nfinalizers; i++)
		free(r->finalizers[i]);
	free(r->labels);
	free(r->finalizers);
	if (r->spec)
		protobuf_c_message_free_unpacked(r->spec, NULL);
	free(r->id);
	free(r->owner);
	free(r);
}

static long label_index(const struct res *r, const char *key, bool *found)
{
	size_t lo = 0, hi = r->nlabels;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->labels[mid].key, key);

		if (c == 0) {
			*found = true;
			return (long)mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return (long)lo;
}

int res_set_label(struct res *r, const char *key, const char *value)
{
	bool found;
	long i = label_index(r, key, &found);
	struct res_label *v;
	char *k, *val;

	if (!value) {
		if (found) {
			free(r->labels[i].key);
			free(r->labels[i].value);
			memmove(&r->labels[i], &r->labels[i + 1], (r->nlabels - (size_t)i - 1) * sizeof(*v));
			r->nlabels--;
		}
		return 0;
	}
	val = strdup(value);
	if (!val)
		return -ENOMEM;
	if (found) {
		free(r->labels[i].value);
		r->labels[i].value = val;
		return 0;
	}
	k = strdup(key);
	v = realloc(r->labels, (r->nlabels + 1) * sizeof(*v));
	if (!k || !v) {
		free(k);
		free(val);
		if (v)
			r->labels = v;
		return -ENOMEM;
	}
	r->labels = v;
	memmove(&v[i + 1], &v[i], (r->nlabels - (size_t)i) * sizeof(*v));
	v[i].key = k;
	v[i].value = val;
	r->nlabels++;
	return 0;
}

const char *res_label(const struct res *r, const char *key)
{
	bool found;
	long i = label_index(r, key, &found);

	return found ? r->labels[i].value : NULL;
}

bool res_has_finalizer(const struct res *r, const char *f)
{
	for (size_t i = 0; i < r->nfinalizers; i++)
		if (strcmp(r->finalizers[i], f) == 0)
			return true;
	return false;
}

int res_add_finalizer(struct res *r, const char *f)
{
	char **v, *copy;

	if (res_has_finalizer(r, f))
		return 0;
	copy = strdup(f);
	v = realloc(r->finalizers, (r->nfinalizers + 1) * sizeof(*v));
	if (!copy || !v) {
		free(copy);
		if (v)
			r->finalizers = v;
		return -ENOMEM;
	}
	r->finalizers = v;
	v[r->nfinalizers++] = copy;
	return 0;
}

void res_remove_finalizer(struct res *r, const char *f)
{
	for (size_t i = 0; i < r->nfinalizers; i++) {
		if (strcmp(r->finalizers[i], f) == 0) {
			free(r->finalizers[i]);
			memmove(&r->finalizers[i], &r->finalizers[i + 1],
				(r->nfinalizers - i - 1) * sizeof(char *));
			r->nfinalizers--;
			return;
		}
	}
}

/* Packs m into a heap buffer. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len ? *len : 1);
	if (buf)
		protobuf_c_message_pack(m, buf);
	return buf;
}

bool res_spec_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	uint8_t *pa, *pb;
	size_t la, lb;
	bool eq;

	if (!a || !b)
		return a == b;
	if (a->descriptor != b->descriptor)
		return false;
	pa = pack(a, &la);
	pb = pack(b, &lb);
	eq = pa && pb && la == lb && memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return eq;
}

ProtobufCMessage *res_spec_copy(const ProtobufCMessage *m)
{
	size_t len;
	uint8_t *buf = pack(m, &len);
	ProtobufCMessage *copy;

	if (!buf)
		return NULL;
	copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

const char *res_name(const struct res *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", r->ns, r->type, r->id);
	return buf;
}

static bool valid(const char *s, bool slash)
{
	size_t n = strlen(s);

	if (n == 0 || n > RES_NAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (*s == '/' && !slash) || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

bool res_valid_name(const char *s)
{
	return valid(s, false);
}

bool res_valid_id(const char *s)
{
	return valid(s, true);
}

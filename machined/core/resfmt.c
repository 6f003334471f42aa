/* SPDX-License-Identifier: MIT */
#include "machined/core/resfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libfyaml.h>
#include <mbedtls/platform_util.h>

#include "api/resource.pb-c.h"
#include "lib/restypes.h"
#include "lib/pbyaml.h"

static void rfc3339(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int resfmt_metadata(const struct res *r, struct resfmt_md *m)
{
	Basalt__Resource__Metadata *md = &m->md;

	memset(m, 0, sizeof(*m));
	basalt__resource__metadata__init(md);
	md->namespace_ = (char *)r->ns;  /* only read: the message is packed, never freed */
	md->type = (char *)r->type;
	md->id = r->id;
	md->version = r->version;
	md->phase = r->phase == RES_TEARING_DOWN ? "tearing-down" : "running";
	md->owner = r->owner;
	if (r->nlabels) {
		m->entries = calloc(r->nlabels, sizeof(*m->entries));
		m->ptrs = calloc(r->nlabels, sizeof(*m->ptrs));
		if (!m->entries || !m->ptrs) {
			resfmt_metadata_fini(m);
			return -1;
		}
		for (size_t i = 0; i < r->nlabels; i++) {
			basalt__resource__metadata__labels_entry__init(&m->entries[i]);
			m->entries[i].key = r->labels[i].key;
			m->entries[i].value = r->labels[i].value;
			m->ptrs[i] = &m->entries[i];
		}
		md->labels = m->ptrs;
		md->n_labels = r->nlabels;
	}
	md->finalizers = r->finalizers;
	md->n_finalizers = r->nfinalizers;
	rfc3339(r->created_ms, m->created, sizeof(m->created));
	rfc3339(r->updated_ms, m->updated, sizeof(m->updated));
	md->created = m->created;
	md->updated = m->updated;
	return 0;
}

void resfmt_metadata_fini(struct resfmt_md *m)
{
	free(m->entries);
	free(m->ptrs);
	m->entries = NULL;
	m->ptrs = NULL;
}

static struct fy_node *metadata_node(struct fy_document *fyd, const struct res *r, bool json)
{
	struct resfmt_md m;
	struct fy_node *n;

	if (resfmt_metadata(r, &m) < 0)
		return NULL;
	n = pbyaml_node(fyd, &m.md.base, json);
	resfmt_metadata_fini(&m);
	return n;
}

char *resfmt(const struct res *r, bool json)
{
	struct fy_document *fyd = fy_document_create(NULL);
	struct fy_node *root, *md, *spec;
	char *out = NULL;

	if (!fyd)
		return NULL;
	root = fy_node_create_mapping(fyd);
	md = metadata_node(fyd, r, json);
	spec = r->spec ? pbyaml_node(fyd, r->spec, json) : fy_node_create_mapping(fyd);
	if (root && md && spec && fy_document_set_root(fyd, root) == 0 &&
	    fy_node_mapping_append(root, fy_node_create_scalar(fyd, "metadata", FY_NT), md) == 0 &&
	    fy_node_mapping_append(root, fy_node_create_scalar(fyd, "spec", FY_NT), spec) == 0)
		out = pbyaml_emit_node(root, json);
	fy_document_destroy(fyd);
	return out;
}

/* Replaces every secret string field in m (and the messages under it) by RES_REDACTED. */
static int redact(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *member = (char *)m + f->offset;

		if (f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED &&
		    *(char **)member && res_field_secret(d->name, f->name)) {
			char *v = *(char **)member, *red = strdup(RES_REDACTED);

			if (!red)
				return -ENOMEM;
			mbedtls_platform_zeroize(v, strlen(v));
			free(v);
			*(char **)member = red;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);

			for (size_t k = 0; k < n; k++)
				if (redact((*(ProtobufCMessage ***)member)[k]) < 0)
					return -ENOMEM;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage **)member) {
			if (redact(*(ProtobufCMessage **)member) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

char *resfmt_redacted(const struct res *r, bool json)
{
	struct res copy;
	char *out;

	if (!r->t->sensitive || !r->spec)
		return resfmt(r, json);
	copy = *r;
	copy.spec = res_spec_copy(r->spec);
	if (!copy.spec || redact(copy.spec) < 0) {
		if (copy.spec)
			protobuf_c_message_free_unpacked(copy.spec, NULL);
		return NULL;
	}
	out = resfmt(&copy, json);
	protobuf_c_message_free_unpacked(copy.spec, NULL);
	return out;
}

int resfmt_print(FILE *f, const struct res *r, bool json)
{
	char *text = resfmt_redacted(r, json);

	if (!text)
		return -1;
	if (!json)
		fputs("---\n", f);
	fputs(text, f);
	free(text);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * YAML and JSON <-> protobuf-c messages, driven by the message descriptors: a field's name
 * is its key. Decoding reports every problem (unknown key with a did-you-mean, wrong type,
 * number out of the field's range) at its line and column, and records where each value
 * came from (a source map) so later validation can point at it too.
 */
#ifndef BASALT_PBYAML_H
#define BASALT_PBYAML_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>
#include <protobuf-c/protobuf-c.h>

#include "lib/diag.h"

#define PBYAML_MAX_DOC (1u << 20)  /* documents larger than this are refused */
#define PBYAML_MAX_DEPTH 64         /* nesting deeper than this is refused */

/* A JSON pointer (RFC 6901) built segment by segment, ~ and / escaped as ~0 and ~1. */
struct jptr {
	char buf[512];
	size_t len;
};

/* Each push returns the previous length, for jptr_pop to go back to. */
size_t jptr_push(struct jptr *p, const char *seg);
size_t jptr_push_index(struct jptr *p, size_t i);
void jptr_pop(struct jptr *p, size_t old);

/* Where the value at a JSON pointer came from. */
struct srcmap;

struct srcmap *srcmap_new(void);
void srcmap_free(struct srcmap *sm);
/* file is borrowed: it must outlive the map. */
void srcmap_put(struct srcmap *sm, const char *path, const char *file, int line, int col);
/* Position of path, else of its nearest ancestor that has one. */
bool srcmap_find(const struct srcmap *sm, const char *path, const char **file, int *line,
		 int *col);

struct pbyaml_ctx {
	const char *file;    /* name used in diagnostics */
	struct diag *diag;
	struct srcmap *sm;   /* may be NULL */
};

/*
 * Parses one YAML (or JSON) document. Syntax errors, a second document, a document over
 * PBYAML_MAX_DOC bytes or nested deeper than PBYAML_MAX_DEPTH go to d. Caller frees with
 * fy_document_destroy. NULL on error.
 */
struct fy_document *pbyaml_parse(const char *file, const char *text, size_t len, struct diag *d);

/*
 * Decodes node as a desc message into *out, which is allocated even when errors are found
 * (free it with protobuf_c_message_free_unpacked). Returns 0 when nothing was reported.
 */
int pbyaml_decode(struct pbyaml_ctx *c, struct fy_node *node,
		  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* Builds msg as a node of fyd (JSON-friendly scalar styles when json). */
struct fy_node *pbyaml_node(struct fy_document *fyd, const ProtobufCMessage *msg, bool json);
/* Renders a node: block YAML or JSON. Caller frees. */
char *pbyaml_emit_node(struct fy_node *node, bool json);
/* A tree read from text (a node's spec_yaml) as one line of JSON: plain scalars that read
 * as numbers, booleans or null stay literals, every other scalar is a string. Caller frees. */
char *pbyaml_json_line(struct fy_node *node);
/* Renders msg: block YAML or JSON. Caller frees; NULL on allocation failure. */
char *pbyaml_emit(const ProtobufCMessage *msg, bool json);

/* Position of a node (of its first scalar, for collections), 1-based. */
bool pbyaml_node_pos(struct fy_node *n, int *line, int *col);
/*
 * The file a node came from: nodes imported by a patch carry the patch's name (see
 * pbyaml_tag); others came from the document itself, named fallback.
 */
const char *pbyaml_node_file(struct fy_node *n, const char *fallback);
/* Marks n and everything below it as coming from file (borrowed: must outlive fyd's use). */
void pbyaml_tag(struct fy_document *fyd, struct fy_node *n, const char *file);
/* YAML null: no node, an empty value, or a plain null, Null, NULL or ~. */
bool pbyaml_is_null(struct fy_node *n);
/* The name in names[] closest to s, if close enough to be a likely typo; else NULL. */
const char *pbyaml_suggest(const char *s, const char *const *names, size_t n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A resource: identity (namespace, type, id), metadata (version, phase, owner, labels,
 * finalizers, timestamps) and a protobuf spec. Once in the store a resource is immutable
 * and reference counted: an update stores a new object, and a watcher that was handed the
 * old version keeps it as it was.
 */
#ifndef BASALT_RES_H
#define BASALT_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/restypes.h"

#define RES_NAME_MAX 253

enum res_phase {
	RES_RUNNING = 0,
	RES_TEARING_DOWN,
};

struct res_label {
	char *key;
	char *value;
};

struct res {
	unsigned refs;
	const struct res_type *t;  /* its row in the type registry */
	const char *ns, *type;     /* t's, for messages */
	char *id;
	uint64_t version;          /* 1 at creation, +1 on every change */
	enum res_phase phase;
	char *owner;               /* who may change it */
	struct res_label *labels;  /* sorted by key, keys unique */
	size_t nlabels;
	char **finalizers;         /* in the order they were added */
	size_t nfinalizers;
	uint64_t created_ms;       /* CLOCK_REALTIME */
	uint64_t updated_ms;
	ProtobufCMessage *spec;    /* owned */
	uint64_t stamp;            /* the runtime's bookkeeping (the owner's run that last wrote it), not data */
};

/* A new resource of type t holding spec (taken over). The metadata starts empty. NULL on ENOMEM. */
struct res *res_new(const struct res_type *t, const char *id, ProtobufCMessage *spec);
/*
 * r's spec as the message of type t, or NULL when r is NULL, of another type, or holds no
 * spec: the checked way to read a spec (`const Basalt__Runtime__Service *s = res_spec(r,
 * RES(SERVICE));`).
 */
const void *res_spec(const struct res *r, const struct res_type *t);
/*
 * Whether spec was built whole: no proto3 string left NULL, no repeated field counting
 * elements it does not have (what a failed allocation in a controller leaves behind).
 */
bool res_spec_complete(const ProtobufCMessage *m);
/* A copy of r's metadata with a new spec (taken over; NULL keeps a copy of r's). */
struct res *res_clone(const struct res *r, ProtobufCMessage *spec);
struct res *res_ref(struct res *r);
void res_unref(struct res *r);

/* Sets (or with value NULL removes) a label. */
int res_set_label(struct res *r, const char *key, const char *value);
const char *res_label(const struct res *r, const char *key);
bool res_has_finalizer(const struct res *r, const char *f);
int res_add_finalizer(struct res *r, const char *f);
void res_remove_finalizer(struct res *r, const char *f);

/* Whether two specs are equal (same type, same bytes on the wire). */
bool res_spec_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);
/* A deep copy of a spec. NULL on ENOMEM. */
ProtobufCMessage *res_spec_copy(const ProtobufCMessage *m);
/* "namespace/type/id", for messages. */
const char *res_name(const struct res *r, char *buf, size_t len);
/* A namespace or type: 1 to RES_NAME_MAX printable characters, no blank, no '/'. */
bool res_valid_name(const char *s);
/* An id: the same, but '/' is allowed ("eth0/10.0.0.1/24"). */
bool res_valid_id(const char *s);

#endif

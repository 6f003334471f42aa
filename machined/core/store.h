/* SPDX-License-Identifier: MIT */
/*
 * The resource store: every resource machined knows, in memory, with optimistic
 * versioning, ownership, teardown with finalizers, and watches.
 *
 * A watch gets the matching resources as created events, then a bootstrapped marker, then
 * created/updated/destroyed events in the order the store applied them. Events are queued
 * per watcher up to a limit and delivered from the loop (never from inside a write). A
 * watcher that falls further behind loses its queue and gets one overflow event: it must
 * re-list (watch_relist) to learn the current state.
 */
#ifndef BASALT_STORE_H
#define BASALT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/loop.h"
#include "machined/core/res.h"
#include "machined/core/selector.h"

#define WATCH_QUEUE_DEFAULT 1024

struct store;
struct watch;

enum watch_kind {
	WATCH_CREATED,
	WATCH_UPDATED,
	WATCH_DESTROYED,      /* res is the last version */
	WATCH_BOOTSTRAPPED,   /* the initial listing is complete; res is NULL */
	WATCH_OVERFLOW,       /* events were lost: call watch_relist; res is NULL */
};

struct watch_event {
	enum watch_kind kind;
	struct res *res;  /* a reference, released by watch_event_done */
};

/* Events are waiting on w. Called from the loop. */
typedef void watch_ready_fn(void *arg, struct watch *w);

struct watch_opts {
	const struct res_type *type;
	const char *id;        /* NULL: every resource of the type */
	const char *labels;    /* label selector text; NULL or "": all */
	size_t queue;          /* most events queued; 0: WATCH_QUEUE_DEFAULT */
	bool tail;             /* skip the initial listing (and its bootstrapped marker) */
	watch_ready_fn *ready;
	void *arg;
};

/*
 * A store for the resource types types[0..ntypes-1]; it refuses every other type. Each
 * type's index is its slot (below STORE_INDEX_MAX, none twice), its names valid, its spec
 * descriptor set: -EINVAL otherwise. machined passes the registry (res_all); tests add
 * types of their own, indexed from RES_NTYPES up.
 */
#define STORE_INDEX_MAX 1024
int store_new(struct loop *loop, const struct res_type *const *types, size_t ntypes, struct store **out);
/* Closes any watch left open. */
void store_free(struct store *st);

/* --- reads: results are borrowed until the next write --- */
/* Whether t is one of the store's types. */
bool store_declares(const struct store *st, const struct res_type *t);
const struct res *store_get(const struct store *st, const struct res_type *t, const char *id);
/* Calls fn for each matching resource, in id order; stops early if fn returns nonzero. */
typedef int res_visit_fn(void *arg, const struct res *r);
int store_list(const struct store *st, const struct res_type *t, const struct selector *sel,
	       res_visit_fn *fn, void *arg);

/* Every resource, by namespace, type, then id. */
int store_list_all(const struct store *st, res_visit_fn *fn, void *arg);

/* --- writes: each takes over r whatever the outcome; err says why it failed --- */
/*
 * Creates r (its version must be 0) owned by owner. -EEXIST if the id is taken; -EINVAL if
 * its type is not the store's or its spec is not the type's message.
 */
int store_create(struct store *st, const char *owner, struct res *r, char *err, size_t errlen);
/*
 * Replaces the spec and labels of the stored resource r names. r->version must be the
 * stored version (-ESTALE otherwise); owner must be its owner (-EPERM). An update that
 * changes nothing stores nothing and sends no event.
 */
int store_update(struct store *st, const char *owner, struct res *r, char *err, size_t errlen);
/* Starts destruction: phase tearing-down. Returns 1 when no finalizer holds it, else 0. */
int store_teardown(struct store *st, const char *owner, const struct res_type *t, const char *id,
		   char *err, size_t errlen);
/* Removes it. -EBUSY while finalizers remain. */
int store_destroy(struct store *st, const char *owner, const struct res_type *t, const char *id,
		  char *err, size_t errlen);
/* Finalizers are set by the resource's consumers, not its owner: no ownership check. */
int store_add_finalizer(struct store *st, const struct res_type *t, const char *id, const char *fin,
			char *err, size_t errlen);
int store_remove_finalizer(struct store *st, const struct res_type *t, const char *id, const char *fin,
			   char *err, size_t errlen);
/* Sets the stored resource's stamp (the runtime's mark of the run that last wrote it). */
void store_stamp(struct store *st, const struct res_type *t, const char *id, uint64_t stamp);

/* --- watches --- */
int store_watch(struct store *st, const struct watch_opts *o, struct watch **out, char *err,
		size_t errlen);
/* Takes the next event; false when none is queued. */
bool watch_next(struct watch *w, struct watch_event *ev);
void watch_event_done(struct watch_event *ev);
size_t watch_pending(const struct watch *w);
/* Queues the current state again (created events, then bootstrapped); clears an overflow. */
int watch_relist(struct watch *w);
void watch_close(struct watch *w);

#endif

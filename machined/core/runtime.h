/* SPDX-License-Identifier: MIT */
/*
 * The controller runtime. A controller declares the resource types it reads (inputs) and
 * writes (outputs); the runtime runs its reconcile when an input changes, coalescing
 * bursts into one run, and afterwards destroys the outputs that run did not write.
 *
 * Inputs: weak ones are just watched. Strong ones are watched and held: the runtime puts
 * the controller's name as a finalizer on each strong input it reads, and takes it off
 * after the controller has run while the input was tearing down, so an input cannot
 * vanish before its consumers have seen it go.
 *
 * Outputs: an exclusive output type is written by one controller only; shared types by
 * several, each owning its own resources.
 *
 * A failed run is retried with exponential backoff (100 ms to 30 s); every controller's
 * state is the resource runtime/ControllerStatus/<name>, owned by "runtime".
 */
#ifndef BASALT_RUNTIME_H
#define BASALT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/loop.h"
#include "machined/core/store.h"

#define RT_OWNER "runtime"
#define RT_BACKOFF_BASE_MS 100
#define RT_BACKOFF_MAX_MS 30000

enum rt_input_kind {
	RT_WEAK,
	RT_STRONG,
};

enum rt_output_kind {
	RT_EXCLUSIVE,
	RT_SHARED,
};

struct rt_input {
	const struct res_type *type;
	enum rt_input_kind kind;
};

struct rt_output {
	const struct res_type *type;
	enum rt_output_kind kind;
};

struct rt;
struct rt_ctrl;
struct rt_ctx;

struct rt_controller {
	const char *name;
	const struct rt_input *inputs;
	size_t ninputs;
	const struct rt_output *outputs;
	size_t noutputs;
	/* Returns 0, or the value of rt_fail() (or another -errno) when the run failed. */
	int (*reconcile)(struct rt_ctx *ctx, void *arg);
	void *arg;
};

int rt_new(struct loop *loop, struct store *st, struct rt **out);
/* rt_stop: no controller runs again and rt_kick does nothing (a controller's fini may
 * still kick, e.g. from a callback its stop fires); rt_free after the controllers' fini. */
void rt_stop(struct rt *rt);
void rt_free(struct rt *rt);
/* Registers def (copied; its strings must stay valid) and schedules a first run. */
int rt_register(struct rt *rt, const struct rt_controller *def, struct rt_ctrl **out, char *err,
		size_t errlen);
/* Schedules a run for something outside the store (a socket event, a timer). */
void rt_kick(struct rt_ctrl *c);
/* No run is scheduled now, and the store has nothing left to deliver. */
bool rt_idle(const struct rt *rt);
struct store *rt_store(const struct rt *rt);

/* --- inside reconcile --- */

/* Reads: borrowed until the next write. Strong inputs read here are held (see above). */
const struct res *rt_get(struct rt_ctx *ctx, const struct res_type *t, const char *id);
int rt_list(struct rt_ctx *ctx, const struct res_type *t, res_visit_fn *fn, void *arg);
/*
 * Writes r (taken over) as an output: created if new, updated if changed. Outputs written
 * in a run are kept; the rest are destroyed when the run succeeds. A run's cost is its
 * outputs': what it wrote is marked with the run's number on the stored resource, so
 * finding what it did not write is one pass over the output types.
 */
int rt_apply(struct rt_ctx *ctx, struct res *r);
/* Records why the run failed; returns -EIO for the reconcile to return. */
int rt_fail(struct rt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *rt_ctx_name(const struct rt_ctx *ctx);

#endif

/* SPDX-License-Identifier: MIT */
#include "machined/core/runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/runtime.pb-c.h"
#include "lib/backoff.h"
#include "lib/log.h"

#define RT_MAX_CONTROLLERS 64

struct rt {
	struct loop *loop;
	struct store *st;
	struct rt_ctrl *ctrls[RT_MAX_CONTROLLERS];
	size_t nctrls;
	bool stopped;  /* rt_stop: no more runs, kicks are ignored */
};

struct rt_ctrl {
	struct rt *rt;
	struct rt_controller def;
	struct watch **watches;     /* inputs, then outputs */
	size_t nwatches;
	size_t ninput_watches;
	struct loop_timer timer;
	bool running;
	bool again;                 /* an input changed during the run */
	unsigned failures;          /* consecutive */
	uint64_t runs;              /* the number of the run under way, once it started */
	char last_error[512];
	uint64_t last_error_ms, last_run_ms, next_retry_ms;
};

/* What one run wrote and read; lives on the stack of run(). */
struct rt_ctx {
	struct rt_ctrl *c;
	uint64_t stamp;             /* marks the outputs this run wrote */
	struct res **dying;         /* strong inputs seen tearing down: release after success */
	size_t ndying;
	char error[512];
	bool oom;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rfc3339(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms) {
		buf[0] = '\0';
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int rt_new(struct loop *loop, struct store *st, struct rt **out)
{
	struct rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	rt->loop = loop;
	rt->st = st;
	*out = rt;
	return 0;
}

void rt_stop(struct rt *rt)
{
	if (!rt || rt->stopped)
		return;
	rt->stopped = true;
	for (size_t i = 0; i < rt->nctrls; i++) {
		struct rt_ctrl *c = rt->ctrls[i];

		loop_timer_cancel(rt->loop, &c->timer);
		for (size_t j = 0; j < c->nwatches; j++)
			watch_close(c->watches[j]);
		c->nwatches = 0;
	}
}

void rt_free(struct rt *rt)
{
	if (!rt)
		return;
	rt_stop(rt);
	for (size_t i = 0; i < rt->nctrls; i++) {
		free(rt->ctrls[i]->watches);
		free(rt->ctrls[i]);
	}
	free(rt);
}

struct store *rt_store(const struct rt *rt)
{
	return rt->st;
}

bool rt_idle(const struct rt *rt)
{
	for (size_t i = 0; i < rt->nctrls; i++) {
		const struct rt_ctrl *c = rt->ctrls[i];

		/* A retry in backoff is not pending work: the state is as settled as it gets. */
		if (c->running || (loop_timer_armed(&c->timer) && c->failures == 0))
			return false;
		for (size_t j = 0; j < c->nwatches; j++)
			if (watch_pending(c->watches[j]))
				return false;
	}
	return true;
}

static void schedule(struct rt_ctrl *c, uint64_t delay_ms)
{
	if (c->rt->stopped)
		return;
	if (c->running) {
		c->again = true;
		return;
	}
	/* An input change cuts a backoff short: it may be what the run was waiting for. */
	if (loop_timer_armed(&c->timer) && c->timer.due_ns <= mono_ns() + delay_ms * 1000000u)
		return;
	loop_timer_arm(c->rt->loop, &c->timer, delay_ms);
}

void rt_kick(struct rt_ctrl *c)
{
	schedule(c, 0);
}

static bool is_input_watch(const struct rt_ctrl *c, const struct watch *w)
{
	for (size_t i = 0; i < c->ninput_watches; i++)
		if (c->watches[i] == w)
			return true;
	return false;
}

/* Our own output, torn down and now free of finalizers: the next run can destroy it. */
static bool releasable(const struct rt_ctrl *c, const struct res *r)
{
	return r && r->phase == RES_TEARING_DOWN && r->nfinalizers == 0 &&
	       strcmp(r->owner, c->def.name) == 0;
}

static void on_watch(void *arg, struct watch *w)
{
	struct rt_ctrl *c = arg;
	struct watch_event ev;
	bool input = is_input_watch(c, w), changed = false;

	while (watch_next(w, &ev)) {
		if (ev.kind == WATCH_OVERFLOW)
			watch_relist(w);
		if (input)
			changed |= ev.kind != WATCH_BOOTSTRAPPED;
		else
			changed |= ev.kind == WATCH_UPDATED && releasable(c, ev.res);
		watch_event_done(&ev);
	}
	if (changed)
		schedule(c, 0);
}

/* --- the context of a run --- */

static const struct rt_input *input_of(const struct rt_ctrl *c, const struct res_type *t)
{
	for (size_t i = 0; i < c->def.ninputs; i++)
		if (c->def.inputs[i].type == t)
			return &c->def.inputs[i];
	return NULL;
}

static const struct rt_output *output_of(const struct rt_ctrl *c, const struct res_type *t)
{
	for (size_t i = 0; i < c->def.noutputs; i++)
		if (c->def.outputs[i].type == t)
			return &c->def.outputs[i];
	return NULL;
}

/* Remembers r (a reference) until the run is over. */
static void add_dying(struct rt_ctx *ctx, const struct res *r)
{
	struct res **v;

	for (size_t i = 0; i < ctx->ndying; i++)
		if (ctx->dying[i]->t == r->t && strcmp(ctx->dying[i]->id, r->id) == 0)
			return;
	v = realloc(ctx->dying, (ctx->ndying + 1) * sizeof(*v));
	if (!v) {
		ctx->oom = true;
		return;
	}
	ctx->dying = v;
	v[ctx->ndying++] = res_ref((struct res *)r);
}

/* A strong input read in a run: hold it, or note that the controller saw it go. */
static void hold(struct rt_ctx *ctx, const struct res *r)
{
	char err[256];

	if (r->phase == RES_TEARING_DOWN) {
		if (res_has_finalizer(r, ctx->c->def.name))
			add_dying(ctx, r);
		return;
	}
	if (!res_has_finalizer(r, ctx->c->def.name) &&
	    store_add_finalizer(ctx->c->rt->st, r->t, r->id, ctx->c->def.name, err, sizeof(err)) < 0)
		log_warnx("%s: %s", ctx->c->def.name, err);
}

const struct res *rt_get(struct rt_ctx *ctx, const struct res_type *t, const char *id)
{
	const struct rt_input *in = input_of(ctx->c, t);
	const struct res *r = store_get(ctx->c->rt->st, t, id);

	if (r && in && in->kind == RT_STRONG) {
		hold(ctx, r);
		r = store_get(ctx->c->rt->st, t, id);
	}
	return r;
}

struct list_ctx {
	struct rt_ctx *ctx;
	bool strong;
	res_visit_fn *fn;
	void *arg;
};

static int collect_strong(void *arg, const struct res *r)
{
	struct list_ctx *lc = arg;

	hold(lc->ctx, r);
	return 0;
}

int rt_list(struct rt_ctx *ctx, const struct res_type *t, res_visit_fn *fn, void *arg)
{
	const struct rt_input *in = input_of(ctx->c, t);
	struct list_ctx lc = { ctx, in && in->kind == RT_STRONG, fn, arg };

	/* Holding writes finalizers, which would change the list under the visitor: hold first. */
	if (lc.strong)
		store_list(ctx->c->rt->st, t, NULL, collect_strong, &lc);
	return store_list(ctx->c->rt->st, t, NULL, fn, arg);
}

int rt_apply(struct rt_ctx *ctx, struct res *r)
{
	struct rt_ctrl *c = ctx->c;
	const struct res *cur;
	const struct res_type *t;
	char err[512], *id;
	int ret;

	/* res_new gives NULL when it could not allocate; a spec with holes is one a strdup failed. */
	if (!r || (r->spec && !res_spec_complete(r->spec))) {
		rt_fail(ctx, "out of memory building %s", r ? r->type : "a resource");
		res_unref(r);
		return -ENOMEM;
	}
	if (!output_of(c, r->t)) {
		ret = rt_fail(ctx, "%s/%s is not an output of %s", r->ns, r->type, c->def.name);
		res_unref(r);
		return ret;
	}
	t = r->t;
	if (!(id = strdup(r->id))) {
		res_unref(r);
		return rt_fail(ctx, "out of memory");
	}
	cur = store_get(c->rt->st, t, id);
	if (cur && cur->phase == RES_TEARING_DOWN && strcmp(cur->owner, c->def.name) == 0) {
		/* Wanted again while going away: finish the teardown first, retry after. */
		if (store_destroy(c->rt->st, c->def.name, t, id, err, sizeof(err)) < 0) {
			res_unref(r);
			free(id);
			return rt_fail(ctx, "%s", err);
		}
		cur = NULL;
	}
	if (cur) {
		r->version = cur->version;
		ret = store_update(c->rt->st, c->def.name, r, err, sizeof(err));
	} else {
		ret = store_create(c->rt->st, c->def.name, r, err, sizeof(err));
	}
	/* Kept whether or not it changed (an update of an owned resource fails only for a reason
	 * the run reports). */
	store_stamp(c->rt->st, t, id, ctx->stamp);
	free(id);
	return ret < 0 ? rt_fail(ctx, "%s", err) : 0;
}

int rt_fail(struct rt_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	/* The first reason is the one worth reading; later ones often follow from it. */
	if (ctx->error[0])
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return -EIO;
}

const char *rt_ctx_name(const struct rt_ctx *ctx)
{
	return ctx->c->def.name;
}

/* --- after a run --- */

struct cleanup {
	struct rt_ctx *ctx;
	struct res **victims;
	size_t n;
};

/* Ours and not written by this run. */
static int find_untouched(void *arg, const struct res *r)
{
	struct cleanup *cl = arg;
	struct res **v;

	if (r->stamp == cl->ctx->stamp || strcmp(r->owner, cl->ctx->c->def.name) != 0)
		return 0;
	v = realloc(cl->victims, (cl->n + 1) * sizeof(*v));
	if (!v) {
		cl->ctx->oom = true;
		return 1;
	}
	cl->victims = v;
	v[cl->n++] = res_ref((struct res *)r);
	return 0;
}

static void unref_all(struct res **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		res_unref(v[i]);
	free(v);
}

/* Tears down (and destroys, once free of finalizers) outputs the run did not write. */
static void cleanup_outputs(struct rt_ctx *ctx)
{
	struct rt_ctrl *c = ctx->c;
	struct cleanup cl = { .ctx = ctx };
	char err[512];

	/* Collected first: tearing down changes the lists under the visitor. */
	for (size_t i = 0; i < c->def.noutputs; i++)
		store_list(c->rt->st, c->def.outputs[i].type, NULL, find_untouched, &cl);
	for (size_t i = 0; i < cl.n; i++) {
		const struct res *v = cl.victims[i];
		int r = store_teardown(c->rt->st, c->def.name, v->t, v->id, err, sizeof(err));

		if (r == 1)
			r = store_destroy(c->rt->st, c->def.name, v->t, v->id, err, sizeof(err));
		if (r < 0)
			log_warnx("%s: %s", c->def.name, err);
	}
	unref_all(cl.victims, cl.n);
}

static void release_dying(struct rt_ctx *ctx)
{
	char err[512];

	for (size_t i = 0; i < ctx->ndying; i++) {
		const struct res *d = ctx->dying[i];

		if (store_remove_finalizer(ctx->c->rt->st, d->t, d->id, ctx->c->def.name, err,
					   sizeof(err)) < 0 && !strstr(err, "no such resource"))
			log_warnx("%s: %s", ctx->c->def.name, err);
	}
}

static void set_str(char **dst, const char *s)
{
	*dst = strdup(s ? s : "");
}

static void write_status(struct rt_ctrl *c)
{
	Basalt__Runtime__ControllerStatus *s = malloc(sizeof(*s));
	const struct res *cur;
	struct res *r;
	char err[512], t[40];

	if (!s)
		return;
	basalt__runtime__controller_status__init(s);
	s->runs = c->runs;
	s->failures = c->failures;
	s->healthy = c->failures == 0;
	set_str(&s->lasterror, c->last_error);
	rfc3339(c->last_error_ms, t, sizeof(t));
	set_str(&s->lasterrorat, t);
	rfc3339(c->last_run_ms, t, sizeof(t));
	set_str(&s->lastrunat, t);
	rfc3339(c->failures ? c->next_retry_ms : 0, t, sizeof(t));
	set_str(&s->nextretryat, t);
	r = res_new(RES(CONTROLLER_STATUS), c->def.name, &s->base);
	if (!r)
		return;
	cur = store_get(c->rt->st, RES(CONTROLLER_STATUS), c->def.name);
	if (cur) {
		r->version = cur->version;
		if (store_update(c->rt->st, RT_OWNER, r, err, sizeof(err)) < 0)
			log_warnx("%s: %s", c->def.name, err);
	} else if (store_create(c->rt->st, RT_OWNER, r, err, sizeof(err)) < 0) {
		log_warnx("%s: %s", c->def.name, err);
	}
}

static void run(void *arg)
{
	struct rt_ctrl *c = arg;
	struct rt_ctx ctx = { .c = c, .stamp = ++c->runs };
	struct backoff b = { RT_BACKOFF_BASE_MS, RT_BACKOFF_BASE_MS, RT_BACKOFF_MAX_MS };
	int r;

	c->running = true;
	c->again = false;
	r = c->def.reconcile(&ctx, c->def.arg);
	if (r == 0 && ctx.oom)
		r = rt_fail(&ctx, "out of memory");
	c->last_run_ms = wall_ms();
	if (r == 0) {
		cleanup_outputs(&ctx);
		release_dying(&ctx);
		if (c->failures)
			log_info("%s: recovered after %u failed runs", c->def.name, c->failures);
		c->failures = 0;
	} else {
		uint64_t delay;

		if (!ctx.error[0])
			snprintf(ctx.error, sizeof(ctx.error), "%s", strerror(-r));
		c->failures++;
		delay = backoff_delay_ms(&b, c->failures);
		c->next_retry_ms = c->last_run_ms + delay;
		/* Repeat the same error at most once in the log; the status resource has it all. */
		if (strcmp(c->last_error, ctx.error) != 0 || c->failures == 1)
			log_warnx("%s: %s (retrying in %llu ms)", c->def.name, ctx.error,
				  (unsigned long long)delay);
		snprintf(c->last_error, sizeof(c->last_error), "%s", ctx.error);
		c->last_error_ms = c->last_run_ms;
		loop_timer_arm(c->rt->loop, &c->timer, delay);
	}
	unref_all(ctx.dying, ctx.ndying);
	write_status(c);
	c->running = false;
	if (c->again)
		schedule(c, 0);
}

/* --- registration --- */

static int claim_outputs(struct rt *rt, const struct rt_controller *def, char *err, size_t errlen)
{
	for (size_t i = 0; i < def->noutputs; i++) {
		const struct rt_output *o = &def->outputs[i];

		for (size_t j = 0; j < rt->nctrls; j++) {
			const struct rt_output *other = output_of(rt->ctrls[j], o->type);

			if (other && (other->kind == RT_EXCLUSIVE || o->kind == RT_EXCLUSIVE)) {
				snprintf(err, errlen, "register %s: %s/%s is already an output of %s%s",
					 def->name, o->type->ns, o->type->type, rt->ctrls[j]->def.name,
					 other->kind == RT_EXCLUSIVE ? " (exclusive)" : "");
				return -EEXIST;
			}
		}
	}
	return 0;
}

static int watch_kind(struct rt_ctrl *c, const struct res_type *t, char *err, size_t errlen)
{
	struct watch_opts o = { .type = t, .tail = true, .ready = on_watch, .arg = c };

	return store_watch(c->rt->st, &o, &c->watches[c->nwatches++], err, errlen);
}

int rt_register(struct rt *rt, const struct rt_controller *def, struct rt_ctrl **out, char *err,
		size_t errlen)
{
	struct rt_ctrl *c;
	int r;

	for (size_t i = 0; i < rt->nctrls; i++) {
		if (strcmp(rt->ctrls[i]->def.name, def->name) == 0) {
			snprintf(err, errlen, "register %s: a controller by that name exists", def->name);
			return -EEXIST;
		}
	}
	if (rt->nctrls == RT_MAX_CONTROLLERS) {
		snprintf(err, errlen, "register %s: more than %d controllers", def->name, RT_MAX_CONTROLLERS);
		return -ENOSPC;
	}
	r = claim_outputs(rt, def, err, errlen);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->watches = calloc(def->ninputs + def->noutputs + 1, sizeof(*c->watches)))) {
		free(c);
		snprintf(err, errlen, "register %s: out of memory", def->name);
		return -ENOMEM;
	}
	c->rt = rt;
	c->def = *def;
	loop_timer_init(&c->timer, run, c);
	/* Outputs are watched too: a finalizer released by a consumer lets cleanup finish. */
	for (size_t i = 0; i < def->ninputs && r == 0; i++)
		r = watch_kind(c, def->inputs[i].type, err, errlen);
	c->ninput_watches = c->nwatches;
	for (size_t i = 0; i < def->noutputs && r == 0; i++)
		if (!input_of(c, def->outputs[i].type))
			r = watch_kind(c, def->outputs[i].type, err, errlen);
	if (r < 0) {
		for (size_t j = 0; j < c->nwatches; j++)
			watch_close(c->watches[j]);
		free(c->watches);
		free(c);
		return r;
	}
	rt->ctrls[rt->nctrls++] = c;
	schedule(c, 0);
	if (out)
		*out = c;
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "machined/core/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* All resources of one type, sorted by id, and who watches them. */
struct kind {
	const struct res_type *t;
	struct res **v;
	size_t n, cap;
	struct watch *watchers;
};

struct store {
	struct loop *loop;
	struct kind *kinds;         /* by the type's index; slots of undeclared indexes stay empty */
	size_t nkinds;
	const struct res_type **order;  /* the declared types by namespace, then type */
	size_t ntypes;
	struct watch *ready;        /* watchers with something to deliver, first ready first */
	struct watch **ready_tail;  /* where the next ready one is linked */
	struct loop_timer dispatch; /* delivers to ready watchers from the loop */
};

struct watch {
	struct store *st;
	struct kind *kind;
	char *id;
	struct selector sel;
	struct watch_event *q;  /* ring */
	size_t head, len, cap;
	size_t limit;
	bool overflow;          /* queue dropped; an overflow event is pending */
	bool stale;             /* overflow delivered: nothing is queued until watch_relist */
	bool queued;            /* on st->ready */
	watch_ready_fn *fn;
	void *arg;
	struct watch *prev, *next;  /* kind->watchers */
	struct watch *next_ready;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_dispatch(void *arg);

static int cmp_type(const void *a, const void *b)
{
	const struct res_type *x = *(const struct res_type *const *)a, *y = *(const struct res_type *const *)b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->type, y->type);
}

static bool valid_table(const struct res_type *const *types, size_t n, size_t *slots)
{
	*slots = 0;
	for (size_t i = 0; i < n; i++) {
		const struct res_type *t = types[i];

		if (!t || !t->ns || !t->type || !t->spec || !res_valid_name(t->ns) || !res_valid_name(t->type) ||
		    t->index >= STORE_INDEX_MAX)
			return false;
		for (size_t j = 0; j < i; j++)
			if (types[j]->index == t->index ||
			    (strcmp(types[j]->ns, t->ns) == 0 && strcmp(types[j]->type, t->type) == 0))
				return false;
		if (t->index + 1 > *slots)
			*slots = t->index + 1;
	}
	return true;
}

int store_new(struct loop *loop, const struct res_type *const *types, size_t ntypes, struct store **out)
{
	struct store *st;
	size_t slots;

	if (!valid_table(types, ntypes, &slots))
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->kinds = calloc(slots ? slots : 1, sizeof(*st->kinds))) ||
	    !(st->order = calloc(ntypes ? ntypes : 1, sizeof(*st->order)))) {
		if (st)
			free(st->kinds);
		free(st);
		return -ENOMEM;
	}
	st->loop = loop;
	st->nkinds = slots;
	st->ntypes = ntypes;
	memcpy(st->order, types, ntypes * sizeof(*types));
	qsort(st->order, ntypes, sizeof(*st->order), cmp_type);
	for (size_t i = 0; i < ntypes; i++)
		st->kinds[types[i]->index].t = types[i];
	loop_timer_init(&st->dispatch, on_dispatch, st);
	*out = st;
	return 0;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	loop_timer_cancel(st->loop, &st->dispatch);
	for (size_t i = 0; i < st->nkinds; i++) {
		struct kind *k = &st->kinds[i];

		while (k->watchers)
			watch_close(k->watchers);
		for (size_t j = 0; j < k->n; j++)
			res_unref(k->v[j]);
		free(k->v);
	}
	free(st->kinds);
	free(st->order);
	free(st);
}

/* t's kind, or NULL when t is not one of the store's types. */
static struct kind *find_kind(const struct store *st, const struct res_type *t)
{
	if (!t || t->index >= st->nkinds || st->kinds[t->index].t != t)
		return NULL;
	return &st->kinds[t->index];
}

bool store_declares(const struct store *st, const struct res_type *t)
{
	return find_kind(st, t) != NULL;
}

/* Binary search by id: the index of id, or where it would go. */
static size_t kind_index(const struct kind *k, const char *id, bool *found)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(k->v[mid]->id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct res *store_get(const struct store *st, const struct res_type *t, const char *id)
{
	struct kind *k = find_kind(st, t);
	bool found;
	size_t i;

	if (!k)
		return NULL;
	i = kind_index(k, id, &found);
	return found ? k->v[i] : NULL;
}

int store_list(const struct store *st, const struct res_type *t, const struct selector *sel,
	       res_visit_fn *fn, void *arg)
{
	struct kind *k = find_kind(st, t);

	for (size_t i = 0; k && i < k->n; i++) {
		int r;

		if (!selector_match(sel, k->v[i]))
			continue;
		r = fn(arg, k->v[i]);
		if (r)
			return r;
	}
	return 0;
}

int store_list_all(const struct store *st, res_visit_fn *fn, void *arg)
{
	int r = 0;

	for (size_t i = 0; i < st->ntypes && !r; i++)
		r = store_list(st, st->order[i], NULL, fn, arg);
	return r;
}

/* --- event delivery --- */

static void mark_ready(struct watch *w)
{
	if (w->queued)
		return;
	/* In the order they became ready: the controllers run in the order of the changes. */
	w->queued = true;
	w->next_ready = NULL;
	if (!w->st->ready)
		w->st->ready_tail = &w->st->ready;
	*w->st->ready_tail = w;
	w->st->ready_tail = &w->next_ready;
	if (!loop_timer_armed(&w->st->dispatch))
		loop_timer_arm(w->st->loop, &w->st->dispatch, 0);
}

static void drop_queue(struct watch *w)
{
	while (w->len) {
		res_unref(w->q[w->head].res);
		w->head = (w->head + 1) % w->cap;
		w->len--;
	}
	w->head = 0;
}

static int push(struct watch *w, enum watch_kind kind, struct res *r, bool unbounded)
{
	if (w->overflow || w->stale)
		return 0;
	if (!unbounded && w->len >= w->limit) {
		drop_queue(w);
		w->overflow = true;
		mark_ready(w);
		return 0;
	}
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct watch_event *q = malloc(cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < w->len; i++)
			q[i] = w->q[(w->head + i) % w->cap];
		free(w->q);
		w->q = q;
		w->cap = cap;
		w->head = 0;
	}
	w->q[(w->head + w->len) % w->cap] = (struct watch_event){ kind, res_ref(r) };
	w->len++;
	mark_ready(w);
	return 0;
}

static bool matches(const struct watch *w, const struct res *r)
{
	return r && (!w->id || strcmp(w->id, r->id) == 0) && selector_match(&w->sel, r);
}

/* Tells each watcher of k what the change from old to new means to it. */
static void notify(struct kind *k, struct res *old, struct res *new)
{
	for (struct watch *w = k->watchers; w; w = w->next) {
		bool before = matches(w, old), after = matches(w, new);

		if (before && after)
			push(w, WATCH_UPDATED, new, false);
		else if (after)
			push(w, WATCH_CREATED, new, false);
		else if (before)
			push(w, WATCH_DESTROYED, new ? new : old, false);
	}
}

static void on_dispatch(void *arg)
{
	struct store *st = arg;
	struct watch *w;

	/* Taken one at a time: a callback may close watches, which unlink themselves, or
	 * cause new events, which put their watchers back on the list. */
	while ((w = st->ready) != NULL) {
		st->ready = w->next_ready;
		if (!st->ready)
			st->ready_tail = &st->ready;
		w->queued = false;
		if (w->fn && (w->len || w->overflow))
			w->fn(w->arg, w);
	}
}

bool watch_next(struct watch *w, struct watch_event *ev)
{
	if (w->overflow) {
		w->overflow = false;
		w->stale = true;
		*ev = (struct watch_event){ WATCH_OVERFLOW, NULL };
		return true;
	}
	if (w->len == 0)
		return false;
	*ev = w->q[w->head];
	w->head = (w->head + 1) % w->cap;
	w->len--;
	return true;
}

void watch_event_done(struct watch_event *ev)
{
	res_unref(ev->res);
	ev->res = NULL;
}

size_t watch_pending(const struct watch *w)
{
	return w->len + (w->overflow ? 1 : 0);
}

static int list_into(struct watch *w)
{
	for (size_t i = 0; i < w->kind->n; i++) {
		if (matches(w, w->kind->v[i])) {
			int r = push(w, WATCH_CREATED, w->kind->v[i], true);

			if (r < 0)
				return r;
		}
	}
	return push(w, WATCH_BOOTSTRAPPED, NULL, true);
}

static size_t default_limit(size_t n)
{
	return n ? n : WATCH_QUEUE_DEFAULT;
}

int store_watch(struct store *st, const struct watch_opts *o, struct watch **out, char *err,
		size_t errlen)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r = -ENOMEM;

	if (!w)
		goto fail;
	w->st = st;
	w->fn = o->ready;
	w->arg = o->arg;
	w->limit = default_limit(o->queue);
	w->kind = find_kind(st, o->type);
	if (!w->kind) {
		snprintf(err, errlen, "watch: %s/%s is not a declared resource type",
			 o->type ? o->type->ns : "?", o->type ? o->type->type : "?");
		r = -EINVAL;
		goto fail;
	}
	if (o->id && !(w->id = strdup(o->id)))
		goto fail;
	if (o->labels && o->labels[0] && (r = selector_parse(o->labels, &w->sel, err, errlen)) < 0)
		goto fail;
	w->next = w->kind->watchers;
	if (w->next)
		w->next->prev = w;
	w->kind->watchers = w;
	if (!o->tail && (r = list_into(w)) < 0) {
		watch_close(w);
		snprintf(err, errlen, "watch %s/%s: %s", o->type->ns, o->type->type, strerror(-r));
		return r;
	}
	*out = w;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "watch %s/%s: out of memory", o->type->ns, o->type->type);
	if (w) {
		free(w->id);
		selector_fini(&w->sel);
	}
	free(w);
	return r;
}

int watch_relist(struct watch *w)
{
	drop_queue(w);
	w->overflow = false;
	w->stale = false;
	return list_into(w);
}

void watch_close(struct watch *w)
{
	struct watch **pp;

	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->kind->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	for (pp = &w->st->ready; *pp; pp = &(*pp)->next_ready) {
		if (*pp == w) {
			*pp = w->next_ready;
			if (!*pp)
				w->st->ready_tail = pp;
			break;
		}
	}
	drop_queue(w);
	free(w->q);
	free(w->id);
	selector_fini(&w->sel);
	free(w);
}

/* --- writes --- */

static const char *who(const char *owner)
{
	return owner && owner[0] ? owner : "(anonymous)";
}

/* The stored resource named, or NULL with -ENOENT described in err. */
static struct res *lookup(struct store *st, const struct res_type *t, const char *id, size_t *index,
			  struct kind **kp, const char *op, char *err, size_t errlen)
{
	struct kind *k = find_kind(st, t);
	bool found = false;
	size_t i = k ? kind_index(k, id, &found) : 0;

	if (!found) {
		snprintf(err, errlen, "%s %s/%s/%s: no such %s", op, t ? t->ns : "?", t ? t->type : "?", id,
			 k ? "resource" : "resource type");
		return NULL;
	}
	*index = i;
	*kp = k;
	return k->v[i];
}

static int check_owner(const struct res *cur, const char *owner, const char *op, char *err,
		       size_t errlen)
{
	if (strcmp(cur->owner, owner ? owner : "") == 0)
		return 0;
	snprintf(err, errlen, "%s %s/%s/%s: owned by %s, not by %s", op, cur->ns, cur->type, cur->id,
		 who(cur->owner), who(owner));
	return -EPERM;
}

/* Replaces k->v[i] by next and tells the watchers. */
static void replace(struct kind *k, size_t i, struct res *next)
{
	struct res *old = k->v[i];

	k->v[i] = next;
	notify(k, old, next);
	res_unref(old);
}

int store_create(struct store *st, const char *owner, struct res *r, char *err, size_t errlen)
{
	struct kind *k;
	bool found;
	size_t i;
	int ret = -EINVAL;

	k = find_kind(st, r->t);
	if (!k) {
		snprintf(err, errlen, "create %s/%s/%s: not a declared resource type", r->ns, r->type, r->id);
		goto out;
	}
	if (!res_valid_id(r->id)) {
		snprintf(err, errlen, "create %s/%s/%s: an id must be 1 to %d printable characters without "
				      "spaces", r->ns, r->type, r->id, RES_NAME_MAX);
		goto out;
	}
	if (r->spec && r->spec->descriptor != r->t->spec) {
		snprintf(err, errlen, "create %s/%s/%s: the spec is a %s, the type holds a %s", r->ns,
			 r->type, r->id, r->spec->descriptor->name, r->t->spec->name);
		goto out;
	}
	if (r->version != 0) {
		snprintf(err, errlen, "create %s/%s/%s: a new resource has no version yet (got %llu)",
			 r->ns, r->type, r->id, (unsigned long long)r->version);
		goto out;
	}
	ret = -ENOMEM;
	i = kind_index(k, r->id, &found);
	if (found) {
		snprintf(err, errlen, "create %s/%s/%s: already exists (owned by %s)", r->ns, r->type,
			 r->id, who(k->v[i]->owner));
		ret = -EEXIST;
		goto out;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 8;
		struct res **v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			goto out;
		k->v = v;
		k->cap = cap;
	}
	free(r->owner);
	r->owner = strdup(owner ? owner : "");
	if (!r->owner)
		goto out;
	r->version = 1;
	r->phase = RES_RUNNING;
	r->created_ms = r->updated_ms = now_ms();
	memmove(&k->v[i + 1], &k->v[i], (k->n - i) * sizeof(*k->v));
	k->v[i] = r;
	k->n++;
	notify(k, NULL, r);
	return 0;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "create %s/%s/%s: out of memory", r->ns, r->type, r->id);
	res_unref(r);
	return ret;
}

static bool labels_equal(const struct res *a, const struct res *b)
{
	if (a->nlabels != b->nlabels)
		return false;
	for (size_t i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].key, b->labels[i].key) != 0 ||
		    strcmp(a->labels[i].value, b->labels[i].value) != 0)
			return false;
	return true;
}

int store_update(struct store *st, const char *owner, struct res *r, char *err, size_t errlen)
{
	struct kind *k;
	struct res *cur, *next = NULL;
	size_t i;
	int ret;

	cur = lookup(st, r->t, r->id, &i, &k, "update", err, errlen);
	ret = -ENOENT;
	if (!cur)
		goto out;
	ret = check_owner(cur, owner, "update", err, errlen);
	if (ret < 0)
		goto out;
	ret = -ESTALE;
	if (r->version != cur->version) {
		snprintf(err, errlen, "update %s/%s/%s: version conflict: stored version is %llu, the "
				      "update was based on %llu", r->ns, r->type, r->id,
			 (unsigned long long)cur->version, (unsigned long long)r->version);
		goto out;
	}
	ret = -EINVAL;
	if (r->spec && r->spec->descriptor != r->t->spec) {
		snprintf(err, errlen, "update %s/%s/%s: the spec is a %s, the type holds a %s", r->ns,
			 r->type, r->id, r->spec->descriptor->name, r->t->spec->name);
		goto out;
	}
	ret = -EBUSY;
	if (cur->phase == RES_TEARING_DOWN) {
		snprintf(err, errlen, "update %s/%s/%s: it is being torn down", r->ns, r->type, r->id);
		goto out;
	}
	ret = 0;
	if (labels_equal(cur, r) && res_spec_equal(cur->spec, r->spec))
		goto out;
	/* r brings the spec and the whole label set; the store keeps everything else. */
	next = res_clone(cur, r->spec);
	r->spec = NULL;
	ret = -ENOMEM;
	if (!next)
		goto out;
	while (next->nlabels)
		res_set_label(next, next->labels[0].key, NULL);
	for (size_t j = 0; j < r->nlabels; j++)
		if (res_set_label(next, r->labels[j].key, r->labels[j].value) < 0)
			goto out;
	next->version = cur->version + 1;
	next->updated_ms = now_ms();
	replace(k, i, next);
	next = NULL;
	ret = 0;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "update %s/%s/%s: out of memory", r->ns, r->type, r->id);
	res_unref(next);
	res_unref(r);
	return ret;
}

/* Stores a copy of cur changed by edit: the version moves on and watchers hear of it. */
static int rewrite(struct kind *k, size_t i, void (*edit)(struct res *, const void *), const void *arg)
{
	struct res *next = res_clone(k->v[i], NULL);

	if (!next)
		return -ENOMEM;
	edit(next, arg);
	next->version++;
	next->updated_ms = now_ms();
	replace(k, i, next);
	return 0;
}

static void set_tearing_down(struct res *r, const void *arg)
{
	(void)arg;
	r->phase = RES_TEARING_DOWN;
}

int store_teardown(struct store *st, const char *owner, const struct res_type *t, const char *id,
		   char *err, size_t errlen)
{
	struct kind *k;
	size_t i;
	struct res *cur = lookup(st, t, id, &i, &k, "teardown", err, errlen);
	int r;

	if (!cur)
		return -ENOENT;
	r = check_owner(cur, owner, "teardown", err, errlen);
	if (r < 0)
		return r;
	if (cur->phase != RES_TEARING_DOWN && (r = rewrite(k, i, set_tearing_down, NULL)) < 0)
		return r;
	return k->v[i]->nfinalizers == 0 ? 1 : 0;
}

int store_destroy(struct store *st, const char *owner, const struct res_type *t, const char *id,
		  char *err, size_t errlen)
{
	struct kind *k;
	size_t i;
	struct res *cur = lookup(st, t, id, &i, &k, "destroy", err, errlen);
	int r;

	if (!cur)
		return -ENOENT;
	r = check_owner(cur, owner, "destroy", err, errlen);
	if (r < 0)
		return r;
	if (cur->nfinalizers > 0) {
		char list[256] = "";

		for (size_t j = 0; j < cur->nfinalizers; j++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", j ? ", " : "",
				 cur->finalizers[j]);
		snprintf(err, errlen, "destroy %s/%s/%s: held by finalizers %s", t->ns, t->type, id, list);
		return -EBUSY;
	}
	memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof(*k->v));
	k->n--;
	notify(k, cur, NULL);
	res_unref(cur);
	return 0;
}

static void add_fin(struct res *r, const void *arg)
{
	res_add_finalizer(r, arg);
}

static void remove_fin(struct res *r, const void *arg)
{
	res_remove_finalizer(r, arg);
}

int store_add_finalizer(struct store *st, const struct res_type *t, const char *id, const char *fin,
			char *err, size_t errlen)
{
	struct kind *k;
	size_t i;
	struct res *cur = lookup(st, t, id, &i, &k, "add finalizer", err, errlen);

	if (!cur)
		return -ENOENT;
	if (res_has_finalizer(cur, fin))
		return 0;
	if (cur->phase == RES_TEARING_DOWN) {
		snprintf(err, errlen, "add finalizer %s to %s/%s/%s: it is being torn down", fin, t->ns,
			 t->type, id);
		return -EBUSY;
	}
	return rewrite(k, i, add_fin, fin);
}

int store_remove_finalizer(struct store *st, const struct res_type *t, const char *id, const char *fin,
			   char *err, size_t errlen)
{
	struct kind *k;
	size_t i;
	struct res *cur = lookup(st, t, id, &i, &k, "remove finalizer", err, errlen);

	if (!cur)
		return -ENOENT;
	if (!res_has_finalizer(cur, fin))
		return 0;
	return rewrite(k, i, remove_fin, fin);
}

void store_stamp(struct store *st, const struct res_type *t, const char *id, uint64_t stamp)
{
	struct kind *k = find_kind(st, t);
	bool found = false;
	size_t i = k ? kind_index(k, id, &found) : 0;

	if (found)
		k->v[i]->stamp = stamp;
}

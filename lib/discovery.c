/* SPDX-License-Identifier: MIT */
/*
 * The discovery registry (see discovery.h). Clusters and, in each, affiliates live in
 * hash tables keyed by id, and in an array each for a snapshot or an expiry sweep; an
 * update costs O(1) plus one encoded event sent to each watcher of its cluster.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/discovery.h"
#include "lib/grpc.h"

#include "api/discovery.pb-c.h"

#define SNAPSHOT_CHUNK (1u << 20)   /* a snapshot goes out in messages of about this size */
#define COST_CLUSTER 128u           /* what holding one costs beyond its bytes (accounted) */
#define COST_AFF 96u
#define COST_EP 24u

struct hnode {
	struct hnode *next;
	char *key;       /* NUL-terminated, keylen bytes before it */
	size_t keylen;
};

struct htab {
	struct hnode **b;
	size_t nb;       /* a power of two, or 0 */
	size_t count;
};

struct ep {
	uint8_t *b;
	size_t len;
	uint64_t expires;
};

struct aff {
	struct hnode h;          /* first: the table's node is the affiliate */
	uint8_t *data;
	size_t dlen;
	struct ep *eps;
	size_t neps;
	uint64_t expires;
	size_t pos;              /* index in its cluster's array */
};

struct watcher {
	struct cluster *c;
	disc_send_fn *send;
	disc_gone_fn *gone;
	void *arg;
	bool dead;               /* unwatched or dropped while its cluster was sending */
	struct watcher *prev, *next;
};

struct cluster {
	struct hnode h;
	struct htab affs_by_id;
	struct aff **affs;
	size_t naffs, cap;
	struct watcher *watchers;
	size_t nwatchers;
	unsigned sending;        /* inside a fan-out: watchers are only marked dead */
	bool has_dead;
	size_t pos;
};

struct disc_registry {
	struct disc_limits l;
	disc_clock_fn *clock;
	void *clock_arg;
	struct htab by_id;
	struct cluster **all;
	size_t nclusters, cap;
	struct disc_stats st;
};

void disc_limits_default(struct disc_limits *l)
{
	*l = (struct disc_limits){ .id_max = 256, .data_max = 2048, .endpoint_max = 32, .endpoints_max = 64,
				   .affiliates_max = 1024, .ttl_max_ms = 30 * 60 * 1000, .clusters_max = 65536,
				   .watchers_max = 16384, .bytes_max = 256u << 20 };
}

static uint64_t clock_mono(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now(const struct disc_registry *r)
{
	return r->clock(r->clock_arg);
}

/* --- a small string-keyed hash table --- */

static size_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)k[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct hnode *ht_find(const struct htab *t, const char *k, size_t n)
{
	if (!t->nb)
		return NULL;
	for (struct hnode *e = t->b[hash(k, n) & (t->nb - 1)]; e; e = e->next)
		if (e->keylen == n && memcmp(e->key, k, n) == 0)
			return e;
	return NULL;
}

static int ht_insert(struct htab *t, struct hnode *e)
{
	if (t->count + 1 > t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 16;
		struct hnode **b = calloc(nb, sizeof(*b));

		if (!b)
			return -ENOMEM;
		for (size_t i = 0; i < t->nb; i++)
			for (struct hnode *x = t->b[i], *nx; x; x = nx) {
				size_t j = hash(x->key, x->keylen) & (nb - 1);

				nx = x->next;
				x->next = b[j];
				b[j] = x;
			}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	size_t j = hash(e->key, e->keylen) & (t->nb - 1);

	e->next = t->b[j];
	t->b[j] = e;
	t->count++;
	return 0;
}

static void ht_remove(struct htab *t, struct hnode *e)
{
	for (struct hnode **p = &t->b[hash(e->key, e->keylen) & (t->nb - 1)]; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			t->count--;
			return;
		}
}

static int key_dup(struct hnode *h, const char *k, size_t n)
{
	if (!(h->key = malloc(n + 1)))
		return -ENOMEM;
	memcpy(h->key, k, n);
	h->key[n] = '\0';
	h->keylen = n;
	return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

/* --- watchers --- */

static void watcher_unlink(struct disc_registry *r, struct watcher *w)
{
	struct cluster *c = w->c;

	if (w->prev)
		w->prev->next = w->next;
	else
		c->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	c->nwatchers--;
	r->st.watchers--;
	free(w);
}

static void sweep_dead(struct disc_registry *r, struct cluster *c)
{
	if (c->sending || !c->has_dead)
		return;
	c->has_dead = false;
	for (struct watcher *w = c->watchers, *nx; w; w = nx) {
		nx = w->next;
		if (w->dead)
			watcher_unlink(r, w);
	}
}

/* Sends msg to every live watcher of c; one that cannot take it is dropped and told. */
static void fan_out(struct disc_registry *r, struct cluster *c, const uint8_t *msg, size_t len)
{
	c->sending++;
	for (struct watcher *w = c->watchers; w; w = w->next) {
		if (w->dead)
			continue;
		r->st.events++;
		if (w->send(w->arg, msg, len) != 0 && !w->dead) {
			w->dead = true;
			c->has_dead = true;
			r->st.dropped++;
			w->gone(w->arg, GRPC_RESOURCE_EXHAUSTED, "watch: fell behind the cluster's changes; watch again");
		}
	}
	c->sending--;
	sweep_dead(r, c);
}

/* --- encoding --- */

static void aff_pb(const struct aff *a, Sidero__Discovery__Server__Affiliate *pb, ProtobufCBinaryData *eps)
{
	sidero__discovery__server__affiliate__init(pb);
	pb->id = a->h.key;
	if (a->data) {
		pb->has_data = true;
		pb->data = (ProtobufCBinaryData){ .len = a->dlen, .data = a->data };
	}
	for (size_t i = 0; i < a->neps; i++)
		eps[i] = (ProtobufCBinaryData){ .len = a->eps[i].len, .data = a->eps[i].b };
	pb->n_endpoints = a->neps;
	pb->endpoints = eps;
}

/* One WatchResponse (or ListResponse: the same field 1) of n affiliates; caller frees. */
static uint8_t *pack_affs(struct aff *const *affs, size_t n, bool deleted, bool list, size_t *len)
{
	Sidero__Discovery__Server__Affiliate *pbs = calloc(n ? n : 1, sizeof(*pbs));
	Sidero__Discovery__Server__Affiliate **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	size_t neps = 0;
	uint8_t *out = NULL;

	for (size_t i = 0; i < n; i++)
		neps += deleted ? 0 : affs[i]->neps;
	ProtobufCBinaryData *eps = calloc(neps ? neps : 1, sizeof(*eps));

	if (!pbs || !ptrs || !eps)
		goto out;
	neps = 0;
	for (size_t i = 0; i < n; i++) {
		if (deleted) {
			sidero__discovery__server__affiliate__init(&pbs[i]);
			pbs[i].id = affs[i]->h.key;
		} else {
			aff_pb(affs[i], &pbs[i], eps + neps);
			neps += affs[i]->neps;
		}
		ptrs[i] = &pbs[i];
	}
	if (list) {
		Sidero__Discovery__Server__ListResponse m = SIDERO__DISCOVERY__SERVER__LIST_RESPONSE__INIT;

		m.n_affiliates = n;
		m.affiliates = ptrs;
		*len = sidero__discovery__server__list_response__get_packed_size(&m);
		if ((out = malloc(*len ? *len : 1)))
			sidero__discovery__server__list_response__pack(&m, out);
	} else {
		Sidero__Discovery__Server__WatchResponse m = SIDERO__DISCOVERY__SERVER__WATCH_RESPONSE__INIT;

		m.n_affiliates = n;
		m.affiliates = ptrs;
		if (deleted) {
			m.has_deleted = true;
			m.deleted = true;
		}
		*len = sidero__discovery__server__watch_response__get_packed_size(&m);
		if ((out = malloc(*len ? *len : 1)))
			sidero__discovery__server__watch_response__pack(&m, out);
	}
out:
	free(eps);
	free(ptrs);
	free(pbs);
	return out;
}

static void announce(struct disc_registry *r, struct cluster *c, struct aff *a, bool deleted)
{
	size_t len;
	uint8_t *msg;

	if (!c->nwatchers)
		return;
	if (!(msg = pack_affs(&a, 1, deleted, false, &len))) {
		/* No memory for the event: the watchers would miss it, so they start over. */
		for (struct watcher *w = c->watchers; w; w = w->next)
			if (!w->dead) {
				w->dead = true;
				c->has_dead = true;
				w->gone(w->arg, GRPC_RESOURCE_EXHAUSTED, "watch: out of memory; watch again");
			}
		sweep_dead(r, c);
		return;
	}
	fan_out(r, c, msg, len);
	free(msg);
}

/* --- clusters and affiliates --- */

static size_t aff_bytes(const struct aff *a)
{
	size_t n = COST_AFF + a->h.keylen + a->dlen;

	for (size_t i = 0; i < a->neps; i++)
		n += COST_EP + a->eps[i].len;
	return n;
}

static void aff_free(struct aff *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->neps; i++)
		free(a->eps[i].b);
	free(a->eps);
	free(a->data);
	free(a->h.key);
	free(a);
}

static void aff_remove(struct disc_registry *r, struct cluster *c, struct aff *a)
{
	ht_remove(&c->affs_by_id, &a->h);
	c->affs[a->pos] = c->affs[--c->naffs];
	c->affs[a->pos]->pos = a->pos;
	r->st.affiliates--;
	r->st.endpoints -= a->neps;
	r->st.bytes -= aff_bytes(a);
	aff_free(a);
}

static struct cluster *cluster_get(struct disc_registry *r, const char *id, size_t n, bool create, int *code)
{
	struct cluster *c = (struct cluster *)ht_find(&r->by_id, id, n);

	*code = GRPC_OK;
	if (c || !create)
		return c;
	if (r->nclusters >= r->l.clusters_max || r->st.bytes + COST_CLUSTER + n > r->l.bytes_max) {
		*code = GRPC_RESOURCE_EXHAUSTED;
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c))) || key_dup(&c->h, id, n) < 0 ||
	    grow((void **)&r->all, &r->cap, r->nclusters + 1, sizeof(*r->all)) < 0 || ht_insert(&r->by_id, &c->h) < 0) {
		if (c)
			free(c->h.key);
		free(c);
		*code = GRPC_RESOURCE_EXHAUSTED;
		return NULL;
	}
	c->pos = r->nclusters;
	r->all[r->nclusters++] = c;
	r->st.clusters++;
	r->st.bytes += COST_CLUSTER + n;
	return c;
}

/* A cluster with no affiliates and no watchers is forgotten. */
static void cluster_maybe_free(struct disc_registry *r, struct cluster *c)
{
	if (c->naffs || c->watchers || c->sending)
		return;
	ht_remove(&r->by_id, &c->h);
	r->all[c->pos] = r->all[--r->nclusters];
	r->all[c->pos]->pos = c->pos;
	r->st.clusters--;
	r->st.bytes -= COST_CLUSTER + c->h.keylen;
	free(c->affs_by_id.b);
	free(c->affs);
	free(c->h.key);
	free(c);
}

/* --- requests --- */

__attribute__((format(printf, 5, 6))) static int refuse(struct disc_registry *r, int code, char *why,
							 size_t whylen, const char *fmt, ...)
{
	va_list ap;

	r->st.refused++;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return code;
}

static int check_id(struct disc_registry *r, const char *what, const char *id, char *why, size_t whylen)
{
	size_t n = id ? strlen(id) : 0;

	if (!n)
		return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen, "%s is empty", what);
	if (n > r->l.id_max)
		return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen, "%s is %zu bytes, more than %zu", what, n, r->l.id_max);
	return GRPC_OK;
}

static bool ep_equal(const struct ep *e, const ProtobufCBinaryData *b)
{
	return e->len == b->len && memcmp(e->b, b->data, b->len) == 0;
}

static const struct ep *ep_find(const struct aff *a, const ProtobufCBinaryData *b)
{
	for (size_t i = 0; i < a->neps; i++)
		if (ep_equal(&a->eps[i], b))
			return &a->eps[i];
	return NULL;
}

/* An endpoint that appears twice in one request counts once. */
static bool dup_before(const Sidero__Discovery__Server__AffiliateUpdateRequest *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (m->affiliate_endpoints[j].len == m->affiliate_endpoints[i].len &&
		    memcmp(m->affiliate_endpoints[j].data, m->affiliate_endpoints[i].data, m->affiliate_endpoints[i].len) == 0)
			return true;
	return false;
}

static int check_update(struct disc_registry *r, const Sidero__Discovery__Server__AffiliateUpdateRequest *m,
			uint64_t *ttl, char *why, size_t whylen)
{
	int code;

	if ((code = check_id(r, "cluster_id", m->cluster_id, why, whylen)) ||
	    (code = check_id(r, "affiliate_id", m->affiliate_id, why, whylen)))
		return code;
	if (m->has_affiliate_data && m->affiliate_data.len > r->l.data_max)
		return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen, "%s is %zu bytes, more than %zu", "affiliate_data",
			      m->affiliate_data.len, r->l.data_max);
	for (size_t i = 0; i < m->n_affiliate_endpoints; i++)
		if (!m->affiliate_endpoints[i].len || m->affiliate_endpoints[i].len > r->l.endpoint_max)
			return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen,
				      "%s: an endpoint of %zu bytes (1 to %zu allowed)", "affiliate_endpoints",
				      m->affiliate_endpoints[i].len, r->l.endpoint_max);
	if (m->n_affiliate_endpoints > r->l.endpoints_max)
		return refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen, "%s: %zu in one update, more than %zu",
			      "affiliate_endpoints", m->n_affiliate_endpoints, r->l.endpoints_max);
	if (!m->ttl || m->ttl->seconds < 0 || m->ttl->nanos < 0 || (m->ttl->seconds == 0 && m->ttl->nanos == 0))
		return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen, "ttl: a positive duration is required");
	if ((uint64_t)m->ttl->seconds > r->l.ttl_max_ms / 1000 ||
	    (uint64_t)m->ttl->seconds * 1000 + (uint64_t)m->ttl->nanos / 1000000 > r->l.ttl_max_ms)
		return refuse(r, GRPC_INVALID_ARGUMENT, why, whylen, "%s: %zu s, more than %zu s", "ttl",
			      (size_t)m->ttl->seconds, (size_t)(r->l.ttl_max_ms / 1000));
	*ttl = (uint64_t)m->ttl->seconds * 1000 + ((uint64_t)m->ttl->nanos + 999999) / 1000000;
	return GRPC_OK;
}

static struct aff *aff_new(struct cluster *c, const char *id, size_t n)
{
	struct aff *a = calloc(1, sizeof(*a));

	if (!a || key_dup(&a->h, id, n) < 0 || grow((void **)&c->affs, &c->cap, c->naffs + 1, sizeof(*c->affs)) < 0 ||
	    ht_insert(&c->affs_by_id, &a->h) < 0) {
		if (a)
			free(a->h.key);
		free(a);
		return NULL;
	}
	a->pos = c->naffs;
	c->affs[c->naffs++] = a;
	return a;
}

/* Applies a checked update to a (new or not): all or nothing. changed: watchers must hear. */
static int aff_apply(struct disc_registry *r, struct aff *a, const Sidero__Discovery__Server__AffiliateUpdateRequest *m,
		     uint64_t expires, bool *changed)
{
	const ProtobufCBinaryData *d = &m->affiliate_data;
	size_t add = 0, fresh = 0;
	uint8_t *data = NULL;
	struct ep *eps;

	for (size_t i = 0; i < m->n_affiliate_endpoints; i++)
		if (!ep_find(a, &m->affiliate_endpoints[i]) && !dup_before(m, i)) {
			fresh++;
			add += COST_EP + m->affiliate_endpoints[i].len;
		}
	if (a->neps + fresh > r->l.endpoints_max)
		return -E2BIG;
	bool new_data = m->has_affiliate_data && (!a->data || a->dlen != d->len || memcmp(a->data, d->data, d->len) != 0);

	if (new_data)
		add += d->len;
	if (r->st.bytes + add > r->l.bytes_max + (new_data ? a->dlen : 0))
		return -ENOSPC;
	if (new_data && !(data = malloc(d->len ? d->len : 1)))
		return -ENOMEM;
	if (fresh && !(eps = realloc(a->eps, (a->neps + fresh) * sizeof(*eps)))) {
		free(data);
		return -ENOMEM;
	} else if (fresh) {
		a->eps = eps;
	}
	/* Nothing can fail from here on. */
	for (size_t i = 0; i < m->n_affiliate_endpoints; i++) {
		const ProtobufCBinaryData *b = &m->affiliate_endpoints[i];
		struct ep *e = (struct ep *)ep_find(a, b);

		if (e) {
			e->expires = expires;
			continue;
		}
		e = &a->eps[a->neps];
		if (!(e->b = malloc(b->len)))
			continue;  /* an endpoint lost to no memory: the next refresh brings it */
		memcpy(e->b, b->data, b->len);
		e->len = b->len;
		e->expires = expires;
		a->neps++;
		r->st.endpoints++;
		r->st.bytes += COST_EP + b->len;
		*changed = true;
	}
	if (new_data) {
		if (d->len)
			memcpy(data, d->data, d->len);
		r->st.bytes += d->len;
		r->st.bytes -= a->dlen;
		free(a->data);
		a->data = data;
		a->dlen = d->len;
		*changed = true;
	}
	a->expires = expires;
	return 0;
}

static int do_update(struct disc_registry *r, const Sidero__Discovery__Server__AffiliateUpdateRequest *m, char *why,
		     size_t whylen)
{
	uint64_t ttl = 0;
	int code;
	bool created = false, changed = false;

	if ((code = check_update(r, m, &ttl, why, whylen)))
		return code;
	size_t cn = strlen(m->cluster_id), an = strlen(m->affiliate_id);
	struct cluster *c = cluster_get(r, m->cluster_id, cn, true, &code);

	if (!c)
		return refuse(r, code, why, whylen, "%s: no room for another cluster (%zu held, %zu allowed)", "cluster_id",
			      r->nclusters, r->l.clusters_max);
	struct aff *a = (struct aff *)ht_find(&c->affs_by_id, m->affiliate_id, an);

	if (!a) {
		if (c->naffs >= r->l.affiliates_max) {
			cluster_maybe_free(r, c);
			return refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen, "%s: the cluster has %zu affiliates, %zu allowed",
				      "affiliate_id", c->naffs, r->l.affiliates_max);
		}
		if (r->st.bytes + COST_AFF + an > r->l.bytes_max || !(a = aff_new(c, m->affiliate_id, an))) {
			cluster_maybe_free(r, c);
			return refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen, "affiliate_id: the registry is full");
		}
		r->st.affiliates++;
		r->st.bytes += COST_AFF + an;
		created = changed = true;
	}
	int e = aff_apply(r, a, m, now(r) + ttl, &changed);

	if (e < 0) {
		if (created) {
			aff_remove(r, c, a);
			cluster_maybe_free(r, c);
		}
		return e == -E2BIG ? refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen,
					   "affiliate_endpoints: the affiliate would have more than %zu endpoints",
					   r->l.endpoints_max)
				   : refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen, "affiliate_data: the registry is full");
	}
	r->st.updates++;
	if (changed)
		announce(r, c, a, false);
	return GRPC_OK;
}

static int do_delete(struct disc_registry *r, const Sidero__Discovery__Server__AffiliateDeleteRequest *m, char *why,
		     size_t whylen)
{
	int code;

	if ((code = check_id(r, "cluster_id", m->cluster_id, why, whylen)) ||
	    (code = check_id(r, "affiliate_id", m->affiliate_id, why, whylen)))
		return code;
	struct cluster *c = cluster_get(r, m->cluster_id, strlen(m->cluster_id), false, &code);
	struct aff *a = c ? (struct aff *)ht_find(&c->affs_by_id, m->affiliate_id, strlen(m->affiliate_id)) : NULL;

	if (!a)
		return GRPC_OK;  /* deleting what is not there is done */
	announce(r, c, a, true);
	aff_remove(r, c, a);
	cluster_maybe_free(r, c);
	return GRPC_OK;
}

static uint8_t *pack_hello(const uint8_t *ip, size_t iplen, size_t *len)
{
	Sidero__Discovery__Server__HelloResponse m = SIDERO__DISCOVERY__SERVER__HELLO_RESPONSE__INIT;
	uint8_t *out;

	if (ip && (iplen == 4 || iplen == 16)) {
		m.has_client_ip = true;
		m.client_ip = (ProtobufCBinaryData){ .len = iplen, .data = (uint8_t *)ip };
	}
	*len = sidero__discovery__server__hello_response__get_packed_size(&m);
	if ((out = malloc(*len ? *len : 1)))
		sidero__discovery__server__hello_response__pack(&m, out);
	return out;
}

static uint8_t *pack_empty(size_t *len)
{
	*len = 0;
	return malloc(1);
}

bool disc_is_method(const char *method)
{
	static const char *const names[] = { "Hello", "AffiliateUpdate", "AffiliateDelete", "List", "Watch" };
	size_t n = strlen(DISC_SERVICE);

	if (!method || strncmp(method, DISC_SERVICE, n) != 0)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(method + n, names[i]) == 0)
			return true;
	return false;
}

bool disc_is_watch(const char *method)
{
	return method && strcmp(method, DISC_SERVICE "Watch") == 0;
}

static int bad_request(struct disc_registry *r, const char *method, char *why, size_t whylen)
{
	r->st.refused++;
	snprintf(why, whylen, "%s: the request is not a valid message", method + strlen(DISC_SERVICE));
	return GRPC_INVALID_ARGUMENT;
}

static int unary_hello(struct disc_registry *r, const char *method, const uint8_t *ip, size_t iplen,
		       const uint8_t *req, size_t len, uint8_t **reply, size_t *rlen, char *why, size_t whylen)
{
	Sidero__Discovery__Server__HelloRequest *m = sidero__discovery__server__hello_request__unpack(NULL, len, req);

	if (!m)
		return bad_request(r, method, why, whylen);
	int code = check_id(r, "cluster_id", m->cluster_id, why, whylen);

	sidero__discovery__server__hello_request__free_unpacked(m, NULL);
	if (code)
		return code;
	return (*reply = pack_hello(ip, iplen, rlen)) ? GRPC_OK : GRPC_RESOURCE_EXHAUSTED;
}

static int unary_update(struct disc_registry *r, const char *method, const uint8_t *req, size_t len, uint8_t **reply,
			size_t *rlen, char *why, size_t whylen)
{
	Sidero__Discovery__Server__AffiliateUpdateRequest *m = sidero__discovery__server__affiliate_update_request__unpack(NULL, len, req);

	if (!m)
		return bad_request(r, method, why, whylen);
	int code = do_update(r, m, why, whylen);

	sidero__discovery__server__affiliate_update_request__free_unpacked(m, NULL);
	if (code)
		return code;
	return (*reply = pack_empty(rlen)) ? GRPC_OK : GRPC_RESOURCE_EXHAUSTED;
}

static int unary_delete(struct disc_registry *r, const char *method, const uint8_t *req, size_t len, uint8_t **reply,
			size_t *rlen, char *why, size_t whylen)
{
	Sidero__Discovery__Server__AffiliateDeleteRequest *m = sidero__discovery__server__affiliate_delete_request__unpack(NULL, len, req);

	if (!m)
		return bad_request(r, method, why, whylen);
	int code = do_delete(r, m, why, whylen);

	sidero__discovery__server__affiliate_delete_request__free_unpacked(m, NULL);
	if (code)
		return code;
	return (*reply = pack_empty(rlen)) ? GRPC_OK : GRPC_RESOURCE_EXHAUSTED;
}

static int unary_list(struct disc_registry *r, const char *method, const uint8_t *req, size_t len, uint8_t **reply,
		      size_t *rlen, char *why, size_t whylen)
{
	Sidero__Discovery__Server__ListRequest *m = sidero__discovery__server__list_request__unpack(NULL, len, req);

	if (!m)
		return bad_request(r, method, why, whylen);
	int code = check_id(r, "cluster_id", m->cluster_id, why, whylen);
	struct cluster *c = code ? NULL : cluster_get(r, m->cluster_id, strlen(m->cluster_id), false, &code);

	sidero__discovery__server__list_request__free_unpacked(m, NULL);
	if (code)
		return code;
	*reply = pack_affs(c ? c->affs : NULL, c ? c->naffs : 0, false, true, rlen);
	return *reply ? GRPC_OK : GRPC_RESOURCE_EXHAUSTED;
}

int disc_unary(struct disc_registry *r, const char *method, const uint8_t *peer_ip, size_t peer_len,
	       const uint8_t *req, size_t len, uint8_t **reply, size_t *rlen, char *why, size_t whylen)
{
	const char *name = disc_is_method(method) ? method + strlen(DISC_SERVICE) : "";

	*reply = NULL;
	*rlen = 0;
	if (strcmp(name, "Hello") == 0)
		return unary_hello(r, method, peer_ip, peer_len, req, len, reply, rlen, why, whylen);
	if (strcmp(name, "AffiliateUpdate") == 0)
		return unary_update(r, method, req, len, reply, rlen, why, whylen);
	if (strcmp(name, "AffiliateDelete") == 0)
		return unary_delete(r, method, req, len, reply, rlen, why, whylen);
	if (strcmp(name, "List") == 0)
		return unary_list(r, method, req, len, reply, rlen, why, whylen);
	snprintf(why, whylen, "%s: not a unary method of the discovery service", method ? method : "");
	return GRPC_UNIMPLEMENTED;
}

/* The snapshot, in messages of about SNAPSHOT_CHUNK bytes (the first one even when empty). */
static int send_snapshot(struct disc_registry *r, struct cluster *c, struct watcher *w)
{
	size_t i = 0;

	do {
		size_t n = 0, bytes = 0, len;

		while (i + n < c->naffs && (n == 0 || bytes + aff_bytes(c->affs[i + n]) <= SNAPSHOT_CHUNK))
			bytes += aff_bytes(c->affs[i + n++]);
		uint8_t *msg = pack_affs(c->affs + i, n, false, false, &len);

		if (!msg)
			return -ENOMEM;
		r->st.events++;
		int e = w->send(w->arg, msg, len);

		free(msg);
		if (e)
			return -ENOBUFS;
		i += n;
	} while (i < c->naffs);
	return 0;
}

int disc_watch(struct disc_registry *r, const uint8_t *req, size_t len, disc_send_fn *send, disc_gone_fn *gone,
	       void *arg, struct disc_watcher **out, char *why, size_t whylen)
{
	const char *method = DISC_SERVICE "Watch";
	struct watcher *w = NULL;
	struct cluster *c;

	*out = NULL;
	Sidero__Discovery__Server__WatchRequest *m = sidero__discovery__server__watch_request__unpack(NULL, len, req);

	if (!m)
		return bad_request(r, method, why, whylen);
	int code = check_id(r, "cluster_id", m->cluster_id, why, whylen);

	if (!code && r->st.watchers >= r->l.watchers_max)
		code = refuse(r, GRPC_RESOURCE_EXHAUSTED, why, whylen, "%s: %zu watchers already, %zu allowed", "watch",
			      r->st.watchers, r->l.watchers_max);
	c = code ? NULL : cluster_get(r, m->cluster_id, strlen(m->cluster_id), true, &code);
	sidero__discovery__server__watch_request__free_unpacked(m, NULL);
	if (code == GRPC_RESOURCE_EXHAUSTED && !*why)
		snprintf(why, whylen, "watch: no room for another cluster");
	if (code)
		return code;
	if (!(w = calloc(1, sizeof(*w)))) {
		cluster_maybe_free(r, c);
		snprintf(why, whylen, "watch: out of memory");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	*w = (struct watcher){ .c = c, .send = send, .gone = gone, .arg = arg };
	c->sending++;  /* the watcher is not in the list yet; held so the cluster stays */
	int e = send_snapshot(r, c, w);

	c->sending--;
	if (e < 0) {
		free(w);
		cluster_maybe_free(r, c);
		snprintf(why, whylen, "watch: %s", e == -ENOMEM ? "out of memory for the snapshot"
								: "the snapshot does not fit the reply queue");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	w->next = c->watchers;
	if (c->watchers)
		c->watchers->prev = w;
	c->watchers = w;
	c->nwatchers++;
	r->st.watchers++;
	*out = (struct disc_watcher *)w;
	return GRPC_OK;
}

void disc_unwatch(struct disc_registry *r, struct disc_watcher *dw)
{
	struct watcher *w = (struct watcher *)dw;
	struct cluster *c;

	if (!w)
		return;
	c = w->c;
	w->dead = true;
	c->has_dead = true;
	sweep_dead(r, c);
	cluster_maybe_free(r, c);
}

static uint64_t expire_cluster(struct disc_registry *r, struct cluster *c, uint64_t t)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < c->naffs;) {
		struct aff *a = c->affs[i];
		bool dropped = false;

		if (a->expires <= t) {
			r->st.expired++;
			announce(r, c, a, true);
			aff_remove(r, c, a);
			continue;  /* the last one moved into i */
		}
		for (size_t j = 0; j < a->neps;) {
			if (a->eps[j].expires <= t) {
				r->st.expired++;
				r->st.endpoints--;
				r->st.bytes -= COST_EP + a->eps[j].len;
				free(a->eps[j].b);
				a->eps[j] = a->eps[--a->neps];
				dropped = true;
				continue;
			}
			next = next < a->eps[j].expires ? next : a->eps[j].expires;
			j++;
		}
		if (dropped)
			announce(r, c, a, false);
		next = next < a->expires ? next : a->expires;
		i++;
	}
	return next;
}

uint64_t disc_expire(struct disc_registry *r)
{
	uint64_t t = now(r), next = UINT64_MAX;

	for (size_t i = 0; i < r->nclusters;) {
		struct cluster *c = r->all[i];
		uint64_t n = expire_cluster(r, c, t);

		next = next < n ? next : n;
		size_t before = r->nclusters;

		cluster_maybe_free(r, c);
		if (r->nclusters == before)
			i++;
	}
	return next == UINT64_MAX ? UINT64_MAX : next - t;
}

void disc_get_stats(const struct disc_registry *r, struct disc_stats *st)
{
	*st = r->st;
}

int disc_new(const struct disc_limits *l, disc_clock_fn *clock, void *clock_arg, struct disc_registry **out)
{
	struct disc_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	if (l)
		r->l = *l;
	else
		disc_limits_default(&r->l);
	r->clock = clock ? clock : clock_mono;
	r->clock_arg = clock_arg;
	*out = r;
	return 0;
}

void disc_free(struct disc_registry *r)
{
	if (!r)
		return;
	while (r->nclusters) {
		struct cluster *c = r->all[r->nclusters - 1];

		for (struct watcher *w = c->watchers; w; w = w->next)
			if (!w->dead) {
				w->dead = true;
				w->gone(w->arg, GRPC_UNAVAILABLE, "the registry is shutting down");
			}
		c->has_dead = true;
		sweep_dead(r, c);
		while (c->naffs)
			aff_remove(r, c, c->affs[c->naffs - 1]);
		cluster_maybe_free(r, c);
	}
	free(r->by_id.b);
	free(r->all);
	free(r);
}

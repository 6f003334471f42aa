/* SPDX-License-Identifier: MIT */
/* The discovery registry with a clock of the test's own: TTLs, limits, watchers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/discovery.h"
#include "lib/grpc.h"

#include "api/discovery.pb-c.h"

static uint64_t clock_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

struct seen {
	int msgs, affs, deleted;
	int refuse_after;          /* send fails from this message on (0: never) */
	int gone_code;
	struct disc_registry *r;   /* unwatch this ... */
	struct disc_watcher **victim;  /* ... watcher from inside send */
};

static int on_send(void *arg, const uint8_t *msg, size_t len)
{
	struct seen *s = arg;
	Sidero__Discovery__Server__WatchResponse *m = sidero__discovery__server__watch_response__unpack(NULL, len, msg);

	assert_non_null(m);
	s->msgs++;
	s->affs += (int)m->n_affiliates;
	s->deleted += m->deleted;
	sidero__discovery__server__watch_response__free_unpacked(m, NULL);
	if (s->victim && *s->victim) {
		disc_unwatch(s->r, *s->victim);
		*s->victim = NULL;
	}
	return s->refuse_after && s->msgs >= s->refuse_after;
}

static void on_gone(void *arg, int code, const char *why)
{
	struct seen *s = arg;

	(void)why;
	s->gone_code = code;
}

static int update(struct disc_registry *r, const char *cluster, const char *id, const char *data, size_t dlen,
		  const char *const *eps, size_t neps, int64_t ttl_s)
{
	Sidero__Discovery__Server__AffiliateUpdateRequest m = SIDERO__DISCOVERY__SERVER__AFFILIATE_UPDATE_REQUEST__INIT;
	Sidero__Discovery__Server__Duration d = SIDERO__DISCOVERY__SERVER__DURATION__INIT;
	ProtobufCBinaryData e[80];
	uint8_t buf[65536], *reply;
	size_t rlen;
	char why[256];

	m.cluster_id = (char *)cluster;
	m.affiliate_id = (char *)id;
	if (data) {
		m.has_affiliate_data = true;
		m.affiliate_data = (ProtobufCBinaryData){ .len = dlen, .data = (uint8_t *)data };
	}
	for (size_t i = 0; i < neps; i++)
		e[i] = (ProtobufCBinaryData){ .len = strlen(eps[i]), .data = (uint8_t *)eps[i] };
	m.n_affiliate_endpoints = neps;
	m.affiliate_endpoints = e;
	d.has_seconds = true;
	d.seconds = ttl_s;
	m.ttl = &d;
	size_t len = sidero__discovery__server__affiliate_update_request__pack(&m, buf);
	int code = disc_unary(r, DISC_SERVICE "AffiliateUpdate", NULL, 0, buf, len, &reply, &rlen, why, sizeof(why));

	free(reply);
	return code;
}

static Sidero__Discovery__Server__ListResponse *list(struct disc_registry *r, const char *cluster)
{
	Sidero__Discovery__Server__ListRequest m = SIDERO__DISCOVERY__SERVER__LIST_REQUEST__INIT;
	uint8_t buf[512], *reply;
	size_t rlen;
	char why[256];

	m.cluster_id = (char *)cluster;
	size_t len = sidero__discovery__server__list_request__pack(&m, buf);

	assert_int_equal(disc_unary(r, DISC_SERVICE "List", NULL, 0, buf, len, &reply, &rlen, why, sizeof(why)), GRPC_OK);
	Sidero__Discovery__Server__ListResponse *l = sidero__discovery__server__list_response__unpack(NULL, rlen, reply);

	free(reply);
	assert_non_null(l);
	return l;
}

static struct disc_watcher *watch(struct disc_registry *r, const char *cluster, struct seen *s)
{
	Sidero__Discovery__Server__WatchRequest m = SIDERO__DISCOVERY__SERVER__WATCH_REQUEST__INIT;
	uint8_t buf[512];
	char why[256];
	struct disc_watcher *w;

	m.cluster_id = (char *)cluster;
	size_t len = sidero__discovery__server__watch_request__pack(&m, buf);

	assert_int_equal(disc_watch(r, buf, len, on_send, on_gone, s, &w, why, sizeof(why)), GRPC_OK);
	return w;
}

/* An endpoint outlives the update that brought it only if refreshed; the affiliate too. */
static void test_ttls(void **state)
{
	struct disc_registry *r;
	static const char *const a[] = { "ep-a" }, *const b[] = { "ep-b" };
	struct disc_stats st;

	(void)state;
	clock_now = 1000;
	assert_int_equal(disc_new(NULL, fake_clock, NULL, &r), 0);
	assert_int_equal(update(r, "c", "n1", "data", 4, a, 1, 10), GRPC_OK);
	clock_now += 5000;
	assert_int_equal(update(r, "c", "n1", NULL, 0, b, 1, 10), GRPC_OK);
	clock_now += 6000;  /* ep-a's 10 s are over, ep-b and the affiliate have 4 s left */
	assert_int_equal(disc_expire(r), 4000);
	Sidero__Discovery__Server__ListResponse *l = list(r, "c");

	assert_int_equal(l->n_affiliates, 1);
	assert_int_equal(l->affiliates[0]->n_endpoints, 1);
	assert_memory_equal(l->affiliates[0]->endpoints[0].data, "ep-b", 4);
	assert_memory_equal(l->affiliates[0]->data.data, "data", 4);
	sidero__discovery__server__list_response__free_unpacked(l, NULL);
	clock_now += 4000;
	assert_int_equal(disc_expire(r), UINT64_MAX);
	disc_get_stats(r, &st);
	assert_int_equal(st.affiliates, 0);
	assert_int_equal(st.clusters, 0);   /* nothing left in it, nobody watching: forgotten */
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.expired, 2);
	disc_free(r);
}

/* A refused update leaves nothing behind: no affiliate, no cluster, no byte. */
static void test_all_or_nothing(void **state)
{
	struct disc_limits lim;
	struct disc_registry *r;
	struct disc_stats st;
	const char *eps[3] = { "e1", "e2", "e3" };

	(void)state;
	disc_limits_default(&lim);
	lim.endpoints_max = 2;
	lim.clusters_max = 1;
	assert_int_equal(disc_new(&lim, fake_clock, NULL, &r), 0);
	assert_int_equal(update(r, "c", "n1", "d", 1, eps, 3, 60), GRPC_RESOURCE_EXHAUSTED);
	disc_get_stats(r, &st);
	assert_int_equal(st.clusters + st.affiliates + st.bytes, 0);
	assert_int_equal(update(r, "c", "n1", "d", 1, eps, 2, 60), GRPC_OK);
	assert_int_equal(update(r, "c", "n1", "other", 5, eps + 2, 1, 60), GRPC_RESOURCE_EXHAUSTED);
	Sidero__Discovery__Server__ListResponse *l = list(r, "c");

	assert_int_equal(l->affiliates[0]->data.len, 1);  /* the refused update's data was not taken */
	sidero__discovery__server__list_response__free_unpacked(l, NULL);
	assert_int_equal(update(r, "another", "n1", "d", 1, NULL, 0, 60), GRPC_RESOURCE_EXHAUSTED);
	disc_free(r);
}

/* Memory held is bounded: an update over bytes_max is refused, others go on. */
static void test_bytes_max(void **state)
{
	struct disc_limits lim;
	struct disc_registry *r;
	struct disc_stats st;
	char data[2048], id[16];
	int taken = 0;

	(void)state;
	memset(data, 'x', sizeof(data));
	disc_limits_default(&lim);
	lim.bytes_max = 64 << 10;
	assert_int_equal(disc_new(&lim, fake_clock, NULL, &r), 0);
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		taken += update(r, "c", id, data, sizeof(data), NULL, 0, 60) == GRPC_OK;
	}
	disc_get_stats(r, &st);
	assert_true(taken > 20 && taken < 32);
	assert_true(st.bytes <= lim.bytes_max);
	disc_free(r);
}

/* A watcher that cannot take an event is dropped and told; one unwatched by another's send
 * is never called again; the rest hear everything. */
static void test_watchers(void **state)
{
	struct disc_registry *r;
	struct seen slow = { .refuse_after = 2 }, a = { 0 }, b = { 0 };
	struct disc_watcher *wb;
	struct disc_stats st;

	(void)state;
	assert_int_equal(disc_new(NULL, fake_clock, NULL, &r), 0);
	watch(r, "c", &slow);
	wb = watch(r, "c", &b);
	watch(r, "c", &a);
	a.r = r;
	a.victim = &wb;   /* a's first event unwatches b, whoever is called first */
	assert_int_equal(update(r, "c", "n1", "d", 1, NULL, 0, 60), GRPC_OK);
	assert_int_equal(update(r, "c", "n2", "d", 1, NULL, 0, 60), GRPC_OK);
	assert_int_equal(update(r, "c", "n3", "d", 1, NULL, 0, 60), GRPC_OK);
	assert_int_equal(slow.gone_code, GRPC_RESOURCE_EXHAUSTED);
	assert_int_equal(slow.msgs, 2);      /* the snapshot and one event */
	assert_int_equal(a.msgs, 4);         /* the snapshot and three events */
	assert_true(b.msgs <= 2);
	disc_get_stats(r, &st);
	assert_int_equal(st.watchers, 1);
	assert_int_equal(st.dropped, 1);
	disc_free(r);
	assert_int_equal(a.gone_code, GRPC_UNAVAILABLE);
}

/* A large cluster's snapshot comes in several messages holding every affiliate once. */
static void test_snapshot_chunks(void **state)
{
	struct disc_registry *r;
	struct seen s = { 0 };
	char data[2048], id[16];
	struct disc_watcher *w;

	(void)state;
	memset(data, 'y', sizeof(data));
	assert_int_equal(disc_new(NULL, fake_clock, NULL, &r), 0);
	for (int i = 0; i < 1024; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		assert_int_equal(update(r, "c", id, data, sizeof(data), NULL, 0, 60), GRPC_OK);
	}
	w = watch(r, "c", &s);
	assert_true(s.msgs >= 2);
	assert_int_equal(s.affs, 1024);
	disc_unwatch(r, w);
	disc_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttls),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_bytes_max),
		cmocka_unit_test(test_watchers),
		cmocka_unit_test(test_snapshot_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

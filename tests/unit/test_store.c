/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "machined/core/store.h"

/* The registry's Service, and two types of the test's own. */
static const struct res_type slow_t = { RES_NTYPES, "runtime", "Slow", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type close_t = { RES_NTYPES + 1, "runtime", "Close", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type *const types[] = { RES(SERVICE), &slow_t, &close_t };

static struct loop *loop;
static struct store *st;
static char err[256];

static ProtobufCMessage *spec(const char *message)
{
	Basalt__Runtime__Service *s = malloc(sizeof(*s));

	basalt__runtime__service__init(s);
	s->message = strdup(message);
	return &s->base;
}

static const char *msg_of(const struct res *r)
{
	return ((const Basalt__Runtime__Service *)r->spec)->message;
}

static struct res *mk(const char *id, const char *message)
{
	return res_new(RES(SERVICE), id, spec(message));
}

/* An update based on the stored version. */
static struct res *next_of(const char *id, const char *message)
{
	const struct res *cur = store_get(st, RES(SERVICE), id);
	struct res *r = mk(id, message);

	assert_non_null(cur);
	r->version = cur->version;
	for (size_t i = 0; i < cur->nlabels; i++)
		res_set_label(r, cur->labels[i].key, cur->labels[i].value);
	return r;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(store_new(loop, types, 3, &st), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_free(st);
	loop_free(loop);
	return 0;
}

static void test_create_get_versions(void **state)
{
	const struct res *r;

	(void)state;
	assert_int_equal(store_create(st, "ctrl-a", mk("one", "first"), err, sizeof(err)), 0);
	r = store_get(st, RES(SERVICE), "one");
	assert_non_null(r);
	assert_int_equal(r->version, 1);
	assert_string_equal(r->owner, "ctrl-a");
	assert_int_equal(r->phase, RES_RUNNING);
	assert_true(r->created_ms > 0);
	assert_int_equal(store_create(st, "ctrl-b", mk("one", "again"), err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "create runtime/Service/one: already exists (owned by ctrl-a)");
	assert_int_equal(store_update(st, "ctrl-a", next_of("one", "second"), err, sizeof(err)), 0);
	r = store_get(st, RES(SERVICE), "one");
	assert_int_equal(r->version, 2);
	assert_string_equal(msg_of(r), "second");
	/* Nothing changed: no new version. */
	assert_int_equal(store_update(st, "ctrl-a", next_of("one", "second"), err, sizeof(err)), 0);
	assert_int_equal(store_get(st, RES(SERVICE), "one")->version, 2);
	assert_null(store_get(st, RES(SERVICE), "two"));
	assert_int_equal(store_create(st, "x", mk("bad id", "x"), err, sizeof(err)), -EINVAL);
}

/* Only declared types, each holding its own spec message, get into the store. */
static void test_undeclared_types_refused(void **state)
{
	static const struct res_type bad_ns = { RES_NTYPES + 2, "bad ns", "T", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
	static const struct res_type twin = { RES_NTYPES + 3, "runtime", "Service", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
	const struct res_type *const with_bad[] = { RES(SERVICE), &bad_ns };
	const struct res_type *const with_twin[] = { RES(SERVICE), &twin };
	const struct res_type *const same_index[] = { &slow_t, &slow_t };
	struct watch_opts o = { .type = RES(VERSION) };
	struct store *other;
	struct watch *w;

	(void)state;
	assert_int_equal(store_new(loop, with_bad, 2, &other), -EINVAL);
	assert_int_equal(store_new(loop, with_twin, 2, &other), -EINVAL);
	assert_int_equal(store_new(loop, same_index, 2, &other), -EINVAL);
	/* RES(VERSION) is in the registry but not one of this store's types. */
	assert_int_equal(store_create(st, "x", res_new(RES(VERSION), "v", NULL), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "create runtime/Version/v: not a declared resource type");
	assert_null(store_get(st, RES(VERSION), "v"));
	assert_int_equal(store_watch(st, &o, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "watch: runtime/Version is not a declared resource type");
	assert_int_equal(store_teardown(st, "x", RES(VERSION), "v", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "teardown runtime/Version/v: no such resource type");
	/* A spec that is not the type's message. */
	{
		Basalt__Runtime__Version *v = malloc(sizeof(*v));

		basalt__runtime__version__init(v);
		assert_int_equal(store_create(st, "x", res_new(RES(SERVICE), "wrong", &v->base), err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "create runtime/Service/wrong: the spec is a basalt.runtime.Version, the type holds a basalt.runtime.Service");
	}
	assert_true(store_declares(st, RES(SERVICE)) && store_declares(st, &slow_t) && !store_declares(st, RES(VERSION)));
}

/* The checked accessor gives a spec only as the message of the type asked for. */
static void test_checked_spec_accessor(void **state)
{
	struct res *r = mk("acc", "hello");
	const Basalt__Runtime__Service *s = res_spec(r, RES(SERVICE));

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->message, "hello");
	assert_null(res_spec(r, RES(SERVICE_SPEC)));
	assert_null(res_spec(r, &slow_t));
	assert_null(res_spec(NULL, RES(SERVICE)));
	res_unref(r);
}

static void test_ownership_and_optimistic_versions(void **state)
{
	struct res *stale;

	(void)state;
	assert_int_equal(store_create(st, "ctrl-a", mk("owned", "v1"), err, sizeof(err)), 0);
	assert_int_equal(store_update(st, "intruder", next_of("owned", "evil"), err, sizeof(err)), -EPERM);
	assert_string_equal(err, "update runtime/Service/owned: owned by ctrl-a, not by intruder");
	assert_int_equal(store_destroy(st, "intruder", RES(SERVICE), "owned", err, sizeof(err)), -EPERM);
	assert_int_equal(store_teardown(st, "intruder", RES(SERVICE), "owned", err, sizeof(err)), -EPERM);
	stale = next_of("owned", "late");
	assert_int_equal(store_update(st, "ctrl-a", next_of("owned", "v2"), err, sizeof(err)), 0);
	assert_int_equal(store_update(st, "ctrl-a", stale, err, sizeof(err)), -ESTALE);
	assert_string_equal(err, "update runtime/Service/owned: version conflict: stored version is 2, "
				 "the update was based on 1");
	assert_string_equal(msg_of(store_get(st, RES(SERVICE), "owned")), "v2");
	assert_int_equal(store_update(st, "ctrl-a", mk("ghost", "x"), err, sizeof(err)), -ENOENT);
}

static void test_teardown_and_finalizers(void **state)
{
	(void)state;
	assert_int_equal(store_create(st, "owner", mk("fin", "x"), err, sizeof(err)), 0);
	/* Consumers, not only the owner, hold resources with finalizers. */
	assert_int_equal(store_add_finalizer(st, RES(SERVICE), "fin", "consumer-1", err, sizeof(err)), 0);
	assert_int_equal(store_add_finalizer(st, RES(SERVICE), "fin", "consumer-2", err, sizeof(err)), 0);
	assert_int_equal(store_get(st, RES(SERVICE), "fin")->version, 3);
	assert_int_equal(store_teardown(st, "owner", RES(SERVICE), "fin", err, sizeof(err)), 0);
	assert_int_equal(store_get(st, RES(SERVICE), "fin")->phase, RES_TEARING_DOWN);
	assert_int_equal(store_update(st, "owner", next_of("fin", "y"), err, sizeof(err)), -EBUSY);
	assert_int_equal(store_add_finalizer(st, RES(SERVICE), "fin", "late", err, sizeof(err)), -EBUSY);
	assert_int_equal(store_destroy(st, "owner", RES(SERVICE), "fin", err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "destroy runtime/Service/fin: held by finalizers consumer-1, consumer-2");
	assert_int_equal(store_remove_finalizer(st, RES(SERVICE), "fin", "consumer-1", err, sizeof(err)), 0);
	assert_int_equal(store_teardown(st, "owner", RES(SERVICE), "fin", err, sizeof(err)), 0);
	assert_int_equal(store_remove_finalizer(st, RES(SERVICE), "fin", "consumer-2", err, sizeof(err)), 0);
	assert_int_equal(store_teardown(st, "owner", RES(SERVICE), "fin", err, sizeof(err)), 1);
	assert_int_equal(store_destroy(st, "owner", RES(SERVICE), "fin", err, sizeof(err)), 0);
	assert_null(store_get(st, RES(SERVICE), "fin"));
}

struct seen {
	char log[64][48];
	int n;
	int calls;
};

static const char *const kind_names[] = { "created", "updated", "destroyed", "bootstrapped", "overflow" };

static void drain(void *arg, struct watch *w)
{
	struct seen *s = arg;
	struct watch_event ev;

	s->calls++;
	while (watch_next(w, &ev)) {
		if (s->n < 64)
			snprintf(s->log[s->n++], sizeof(s->log[0]), "%s %s %s", kind_names[ev.kind],
				 ev.res ? ev.res->id : "-", ev.res ? msg_of(ev.res) : "-");
		watch_event_done(&ev);
	}
}

static void run_loop(void)
{
	for (int i = 0; i < 3; i++)
		assert_int_equal(loop_run_once(loop, 0), 0);
}

static void test_watch_initial_list_then_events_in_order(void **state)
{
	struct seen s = { 0 };
	struct watch_opts o = { .type = RES(SERVICE), .ready = drain, .arg = &s };
	struct watch *w;

	(void)state;
	assert_int_equal(store_create(st, "o", mk("w-a", "a1"), err, sizeof(err)), 0);
	assert_int_equal(store_create(st, "o", mk("w-b", "b1"), err, sizeof(err)), 0);
	assert_int_equal(store_watch(st, &o, &w, err, sizeof(err)), 0);
	assert_int_equal(s.calls, 0);  /* delivered from the loop, never synchronously */
	assert_int_equal(store_update(st, "o", next_of("w-a", "a2"), err, sizeof(err)), 0);
	assert_int_equal(store_teardown(st, "o", RES(SERVICE), "w-b", err, sizeof(err)), 1);
	assert_int_equal(store_destroy(st, "o", RES(SERVICE), "w-b", err, sizeof(err)), 0);
	assert_int_equal(store_create(st, "o", mk("w-c", "c1"), err, sizeof(err)), 0);
	run_loop();
	/* Resources created by earlier tests come first in the listing (id order). */
	{
		int i = 0;

		while (i < s.n && strncmp(s.log[i], "created w-a", 11) != 0)
			i++;
		assert_true(i + 6 < s.n + 1);
		assert_string_equal(s.log[i], "created w-a a1");
		assert_string_equal(s.log[i + 1], "created w-b b1");
		assert_string_equal(s.log[i + 2], "bootstrapped - -");
		assert_string_equal(s.log[i + 3], "updated w-a a2");
		assert_string_equal(s.log[i + 4], "updated w-b b1");   /* phase: tearing-down */
		assert_string_equal(s.log[i + 5], "destroyed w-b b1");
		assert_string_equal(s.log[i + 6], "created w-c c1");
		assert_int_equal(s.n, i + 7);
	}
	watch_close(w);
}

static void test_watch_one_id_and_labels(void **state)
{
	struct seen one = { 0 }, sel = { 0 };
	struct watch_opts o1 = { .type = RES(SERVICE), .id = "l-1", .tail = true,
				 .ready = drain, .arg = &one };
	struct watch_opts o2 = { .type = RES(SERVICE), .labels = "tier=edge", .tail = true,
				 .ready = drain, .arg = &sel };
	struct watch *w1, *w2;
	struct res *r;

	(void)state;
	assert_int_equal(store_watch(st, &o1, &w1, err, sizeof(err)), 0);
	assert_int_equal(store_watch(st, &o2, &w2, err, sizeof(err)), 0);
	assert_int_equal(store_create(st, "o", mk("l-1", "x"), err, sizeof(err)), 0);
	assert_int_equal(store_create(st, "o", mk("l-2", "y"), err, sizeof(err)), 0);
	r = next_of("l-2", "y");
	res_set_label(r, "tier", "edge");
	assert_int_equal(store_update(st, "o", r, err, sizeof(err)), 0);   /* starts matching */
	r = next_of("l-2", "y");
	res_set_label(r, "tier", NULL);
	assert_int_equal(store_update(st, "o", r, err, sizeof(err)), 0);   /* stops matching */
	run_loop();
	assert_int_equal(one.n, 1);
	assert_string_equal(one.log[0], "created l-1 x");
	assert_int_equal(sel.n, 2);
	assert_string_equal(sel.log[0], "created l-2 y");
	assert_string_equal(sel.log[1], "destroyed l-2 y");
	watch_close(w1);
	watch_close(w2);
	o2.labels = "tier=";
	assert_int_equal(store_watch(st, &o2, &w2, err, sizeof(err)), 0);
	watch_close(w2);
	o2.labels = "ti er=edge";
	assert_int_equal(store_watch(st, &o2, &w2, err, sizeof(err)), -EINVAL);
}

static void test_slow_watcher_overflows_and_relists(void **state)
{
	struct seen s = { 0 };
	struct watch_opts o = { .type = &slow_t, .queue = 4, .ready = drain, .arg = &s };
	struct watch *w;
	struct watch_event ev;
	char id[16];

	(void)state;
	/* Not drained between writes: a watcher that never reads. */
	o.ready = NULL;
	assert_int_equal(store_watch(st, &o, &w, err, sizeof(err)), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "s-%02d", i);
		assert_int_equal(store_create(st, "o", res_new(&slow_t, id, spec("z")), err, sizeof(err)), 0);
	}
	assert_true(watch_pending(w) <= 4);  /* bounded: no growth with the writes */
	assert_true(watch_next(w, &ev));
	assert_int_equal(ev.kind, WATCH_OVERFLOW);
	/* Until it re-lists, nothing more is queued. */
	assert_int_equal(store_create(st, "o", res_new(&slow_t, "s-99", spec("z")), err, sizeof(err)), 0);
	assert_false(watch_next(w, &ev));
	assert_int_equal(watch_relist(w), 0);
	for (int i = 0; i < 21; i++) {
		assert_true(watch_next(w, &ev));
		assert_int_equal(ev.kind, WATCH_CREATED);
		watch_event_done(&ev);
	}
	assert_true(watch_next(w, &ev));
	assert_int_equal(ev.kind, WATCH_BOOTSTRAPPED);
	assert_false(watch_next(w, &ev));
	watch_close(w);
	run_loop();
}

static void test_events_keep_their_version(void **state)
{
	struct watch_opts o = { .type = RES(SERVICE), .id = "imm", .tail = true };
	struct watch *w;
	struct watch_event ev;

	(void)state;
	assert_int_equal(store_watch(st, &o, &w, err, sizeof(err)), 0);
	assert_int_equal(store_create(st, "o", mk("imm", "before"), err, sizeof(err)), 0);
	assert_int_equal(store_update(st, "o", next_of("imm", "after"), err, sizeof(err)), 0);
	assert_int_equal(store_teardown(st, "o", RES(SERVICE), "imm", err, sizeof(err)), 1);
	assert_int_equal(store_destroy(st, "o", RES(SERVICE), "imm", err, sizeof(err)), 0);
	assert_true(watch_next(w, &ev));
	/* The stored resource changed twice and is gone; the event still shows version 1. */
	assert_int_equal(ev.res->version, 1);
	assert_string_equal(msg_of(ev.res), "before");
	watch_event_done(&ev);
	watch_close(w);
	run_loop();
}

static void test_close_inside_another_callback(void **state)
{
	struct seen s = { 0 };
	struct watch *victim;
	struct watch_opts o = { .type = &close_t, .ready = drain, .arg = &s };

	(void)state;
	/* victim is queued for delivery, then closed before the loop runs: nothing is delivered
	 * to it and nothing touches freed memory (ASan checks). */
	assert_int_equal(store_watch(st, &o, &victim, err, sizeof(err)), 0);
	watch_close(victim);
	run_loop();
	assert_int_equal(s.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_get_versions),
		cmocka_unit_test(test_undeclared_types_refused),
		cmocka_unit_test(test_checked_spec_accessor),
		cmocka_unit_test(test_ownership_and_optimistic_versions),
		cmocka_unit_test(test_teardown_and_finalizers),
		cmocka_unit_test(test_watch_initial_list_then_events_in_order),
		cmocka_unit_test(test_watch_one_id_and_labels),
		cmocka_unit_test(test_slow_watcher_overflows_and_relists),
		cmocka_unit_test(test_events_keep_their_version),
		cmocka_unit_test(test_close_inside_another_callback),
	};

	return cmocka_run_group_tests_name("store", tests, setup, teardown);
}

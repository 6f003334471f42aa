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
#include "machined/core/runtime.h"

/* The test's own types (indexes past the registry's), and the registry's ControllerStatus. */
static const struct res_type t_In = { RES_NTYPES + 0, "test", "In", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type t_Out = { RES_NTYPES + 1, "test", "Out", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type t_Held = { RES_NTYPES + 2, "test", "Held", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type t_Hole = { RES_NTYPES + 3, "test", "Hole", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type t_Shared = { RES_NTYPES + 4, "test", "Shared", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type t_NotMine = { RES_NTYPES + 5, "test", "NotMine", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type *const types[] = { RES(CONTROLLER_STATUS), &t_In, &t_Out, &t_Held, &t_Hole, &t_Shared, &t_NotMine };

static struct loop *loop;
static struct store *st;
static struct rt *rt;
static char err[512];

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

static int setup(void **state)
{
	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(store_new(loop, types, sizeof(types) / sizeof(types[0]), &st), 0);
	assert_int_equal(rt_new(loop, st, &rt), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_free(rt);
	store_free(st);
	loop_free(loop);
	return 0;
}

/* Runs the loop until the runtime settles, or for at most ms. */
static void settle(int ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)ms;

	do
		assert_int_equal(loop_run_once(loop, 5), 0);
	while (!rt_idle(rt) && mono_ms() < deadline);
}

static void put(const struct res_type *type, const char *id, const char *message)
{
	const struct res *cur = store_get(st, type, id);
	struct res *r = res_new(type, id, spec(message));

	if (cur) {
		r->version = cur->version;
		assert_int_equal(store_update(st, "feeder", r, err, sizeof(err)), 0);
	} else {
		assert_int_equal(store_create(st, "feeder", r, err, sizeof(err)), 0);
	}
}

static void drop(const struct res_type *type, const char *id)
{
	assert_true(store_teardown(st, "feeder", type, id, err, sizeof(err)) >= 0);
	store_destroy(st, "feeder", type, id, err, sizeof(err));
}

/* A mirror: one Out per In, carrying its message. */
struct mirror {
	int runs;
	const char *out_type;
};

static int mirror_one(void *arg, const struct res *r)
{
	struct rt_ctx *ctx = arg;

	return rt_apply(ctx, res_new(&t_Out, r->id, spec(msg_of(r)))) < 0;
}

static int mirror_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct mirror *m = arg;

	m->runs++;
	return rt_list(ctx, &t_In, mirror_one, ctx) ? -EIO : 0;
}

static const struct rt_input mirror_in[] = { { &t_In, RT_WEAK } };
static const struct rt_output mirror_out[] = { { &t_Out, RT_EXCLUSIVE } };

static void test_coalescing_and_cleanup(void **state)
{
	/* Controllers outlive a test (the fixture is shared): their state must too. */
	static struct mirror m;
	struct rt_controller def = { "Mirror", mirror_in, 1, mirror_out, 1, mirror_reconcile, &m };
	const struct res *st_res;
	char id[16];

	(void)state;
	assert_int_equal(rt_register(rt, &def, NULL, err, sizeof(err)), 0);
	settle(1000);
	assert_int_equal(m.runs, 1);
	/* A burst of 100 changes is one or two runs, not 100. */
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "r%03d", i);
		put(&t_In, id, "hello");
	}
	settle(1000);
	assert_true(m.runs <= 3);
	assert_non_null(store_get(st, &t_Out, "r042"));
	assert_string_equal(msg_of(store_get(st, &t_Out, "r042")), "hello");
	/* Outputs the run no longer writes are destroyed. */
	drop(&t_In, "r042");
	settle(1000);
	assert_null(store_get(st, &t_Out, "r042"));
	assert_non_null(store_get(st, &t_Out, "r041"));
	st_res = store_get(st, RES(CONTROLLER_STATUS), "Mirror");
	assert_non_null(st_res);
	assert_string_equal(st_res->owner, RT_OWNER);
	assert_true(((const Basalt__Runtime__ControllerStatus *)st_res->spec)->healthy);
	assert_int_equal(((const Basalt__Runtime__ControllerStatus *)st_res->spec)->runs, (uint64_t)m.runs);
}

static void test_cleanup_waits_for_finalizers(void **state)
{
	const struct res *o;

	(void)state;
	put(&t_In, "held", "x");
	settle(1000);
	assert_non_null(store_get(st, &t_Out, "held"));
	assert_int_equal(store_add_finalizer(st, &t_Out, "held", "consumer", err, sizeof(err)), 0);
	drop(&t_In, "held");
	settle(1000);
	o = store_get(st, &t_Out, "held");
	assert_non_null(o);
	assert_int_equal(o->phase, RES_TEARING_DOWN);
	/* The consumer lets go: the runtime finishes the job without any input change. */
	assert_int_equal(store_remove_finalizer(st, &t_Out, "held", "consumer", err, sizeof(err)), 0);
	settle(1000);
	assert_null(store_get(st, &t_Out, "held"));
}

static void test_exclusive_outputs(void **state)
{
	static struct mirror m;
	struct rt_controller def = { "Intruder", NULL, 0, mirror_out, 1, mirror_reconcile, &m };

	(void)state;
	assert_int_equal(rt_register(rt, &def, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "register Intruder: test/Out is already an output of Mirror (exclusive)");
	def.name = "Mirror";
	def.outputs = NULL;
	def.noutputs = 0;
	assert_int_equal(rt_register(rt, &def, NULL, err, sizeof(err)), -EEXIST);
}

struct flaky {
	int runs;
	int fail_first;
	uint64_t at[8];
};

static int flaky_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct flaky *f = arg;

	if (f->runs < 8)
		f->at[f->runs] = mono_ms();
	if (f->runs++ < f->fail_first)
		return rt_fail(ctx, "disk %d is on fire", f->runs);
	return 0;
}

static void test_backoff_and_status(void **state)
{
	static struct flaky f = { .fail_first = 3 };
	struct rt_controller def = { "Flaky", NULL, 0, NULL, 0, flaky_reconcile, &f };
	const Basalt__Runtime__ControllerStatus *s;
	struct rt_ctrl *c;

	(void)state;
	assert_int_equal(rt_register(rt, &def, &c, err, sizeof(err)), 0);
	settle(50);
	assert_int_equal(f.runs, 1);
	s = (const void *)store_get(st, RES(CONTROLLER_STATUS), "Flaky")->spec;
	assert_false(s->healthy);
	assert_int_equal(s->failures, 1);
	assert_string_equal(s->lasterror, "disk 1 is on fire");
	assert_true(s->nextretryat[0] != '\0');
	/* Retries at 100, 100, 200 ms: the error is in the store the whole time. */
	while (f.runs < 4)
		assert_int_equal(loop_run_once(loop, 50), 0);
	settle(100);
	assert_true(f.at[1] - f.at[0] >= 95 && f.at[1] - f.at[0] < 200);
	assert_true(f.at[2] - f.at[1] >= 95 && f.at[2] - f.at[1] < 200);
	assert_true(f.at[3] - f.at[2] >= 195 && f.at[3] - f.at[2] < 350);
	s = (const void *)store_get(st, RES(CONTROLLER_STATUS), "Flaky")->spec;
	assert_true(s->healthy);
	assert_int_equal(s->failures, 0);
	assert_int_equal(s->runs, 4);
	/* A kick runs it once more. */
	rt_kick(c);
	settle(100);
	assert_int_equal(f.runs, 5);
}

/* Builds its output as if strdup had failed on one field, or res_new on the whole. */
static int nomem_reconcile(struct rt_ctx *ctx, void *arg)
{
	int *runs = arg;
	Basalt__Runtime__Service *s = malloc(sizeof(*s));

	basalt__runtime__service__init(s);
	s->state = NULL;  /* what s->state = strdup(...) leaves when out of memory */
	if ((*runs)++ == 0)
		return rt_apply(ctx, res_new(&t_Hole, "x", &s->base));
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return rt_apply(ctx, NULL);
}

static void test_allocation_failure_fails_the_run(void **state)
{
	static const struct rt_output outs[] = { { &t_Hole, RT_EXCLUSIVE } };
	static int runs;
	struct rt_controller def = { "NoMem", NULL, 0, outs, 1, nomem_reconcile, &runs };
	const Basalt__Runtime__ControllerStatus *s;

	(void)state;
	assert_int_equal(rt_register(rt, &def, NULL, err, sizeof(err)), 0);
	settle(50);
	assert_null(store_get(st, &t_Hole, "x"));
	s = (const void *)store_get(st, RES(CONTROLLER_STATUS), "NoMem")->spec;
	assert_false(s->healthy);
	assert_string_equal(s->lasterror, "out of memory building Hole");
	while (runs < 2)
		assert_int_equal(loop_run_once(loop, 50), 0);
	settle(50);
	s = (const void *)store_get(st, RES(CONTROLLER_STATUS), "NoMem")->spec;
	assert_false(s->healthy);
	assert_string_equal(s->lasterror, "out of memory building a resource");
}

/* Reads its strong input; records what it saw. */
struct strong {
	int runs;
	char seen_phase[16];
};

static int strong_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct strong *s = arg;
	const struct res *r = rt_get(ctx, &t_Held, "h");

	s->runs++;
	snprintf(s->seen_phase, sizeof(s->seen_phase), "%s",
		 !r ? "none" : r->phase == RES_TEARING_DOWN ? "tearing-down" : "running");
	return 0;
}

static void test_strong_inputs_are_held(void **state)
{
	static const struct rt_input in[] = { { &t_Held, RT_STRONG } };
	static struct strong s;
	struct rt_controller def = { "Consumer", in, 1, NULL, 0, strong_reconcile, &s };

	(void)state;
	assert_int_equal(rt_register(rt, &def, NULL, err, sizeof(err)), 0);
	put(&t_Held, "h", "v");
	settle(1000);
	assert_true(res_has_finalizer(store_get(st, &t_Held, "h"), "Consumer"));
	/* Its owner cannot destroy it before the consumer has seen the teardown. */
	assert_int_equal(store_teardown(st, "feeder", &t_Held, "h", err, sizeof(err)), 0);
	assert_int_equal(store_destroy(st, "feeder", &t_Held, "h", err, sizeof(err)), -EBUSY);
	settle(1000);
	assert_string_equal(s.seen_phase, "tearing-down");
	assert_false(res_has_finalizer(store_get(st, &t_Held, "h"), "Consumer"));
	assert_int_equal(store_destroy(st, "feeder", &t_Held, "h", err, sizeof(err)), 0);
}

static int shared_reconcile(struct rt_ctx *ctx, void *arg)
{
	return rt_apply(ctx, res_new(&t_Shared, arg, spec(arg)));
}

static int stray_reconcile(struct rt_ctx *ctx, void *arg)
{
	(void)arg;
	return rt_apply(ctx, res_new(&t_NotMine, "x", spec("x")));
}

static void test_shared_outputs_and_stray_writes(void **state)
{
	static const struct rt_output out[] = { { &t_Shared, RT_SHARED } };
	struct rt_controller a = { "SharerA", NULL, 0, out, 1, shared_reconcile, "from-a" };
	struct rt_controller b = { "SharerB", NULL, 0, out, 1, shared_reconcile, "from-b" };
	struct rt_controller stray = { "Stray", NULL, 0, NULL, 0, stray_reconcile, NULL };
	const Basalt__Runtime__ControllerStatus *s;

	(void)state;
	assert_int_equal(rt_register(rt, &a, NULL, err, sizeof(err)), 0);
	assert_int_equal(rt_register(rt, &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(rt_register(rt, &stray, NULL, err, sizeof(err)), 0);
	settle(300);
	/* Each keeps its own resource: neither's cleanup touches the other's. */
	assert_string_equal(store_get(st, &t_Shared, "from-a")->owner, "SharerA");
	assert_string_equal(store_get(st, &t_Shared, "from-b")->owner, "SharerB");
	assert_null(store_get(st, &t_NotMine, "x"));
	s = (const void *)store_get(st, RES(CONTROLLER_STATUS), "Stray")->spec;
	assert_string_equal(s->lasterror, "test/NotMine is not an output of Stray");
}

/* A stopped runtime runs nothing: a kick (a controller's fini telling it its client
 * stopped) and an input change after rt_stop are ignored, and rt_free comes after. */
static void test_stop_then_kick(void **state)
{
	static struct mirror m;
	struct rt_controller def = { "Stopped", mirror_in, 1, mirror_out, 1, mirror_reconcile, &m };
	struct rt_ctrl *c = NULL;
	struct rt *r2;

	(void)state;
	assert_int_equal(rt_new(loop, st, &r2), 0);
	assert_int_equal(rt_register(r2, &def, &c, err, sizeof(err)), 0);
	for (int i = 0; i < 50 && m.runs == 0; i++)
		assert_int_equal(loop_run_once(loop, 5), 0);
	assert_int_equal(m.runs, 1);
	rt_stop(r2);
	rt_kick(c);
	put(&t_In, "after-stop", "x");
	for (int i = 0; i < 20; i++)
		assert_int_equal(loop_run_once(loop, 5), 0);
	assert_int_equal(m.runs, 1);
	rt_free(r2);
	drop(&t_In, "after-stop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coalescing_and_cleanup),
		cmocka_unit_test(test_stop_then_kick),
		cmocka_unit_test(test_cleanup_waits_for_finalizers),
		cmocka_unit_test(test_exclusive_outputs),
		cmocka_unit_test(test_backoff_and_status),
		cmocka_unit_test(test_allocation_failure_fails_the_run),
		cmocka_unit_test(test_strong_inputs_are_held),
		cmocka_unit_test(test_shared_outputs_and_stray_writes),
	};

	return cmocka_run_group_tests_name("runtime", tests, setup, teardown);
}

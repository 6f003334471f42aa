/* SPDX-License-Identifier: MIT */
/* The supervisor with real child processes: restarts, backoff, policies, ordering, stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/supfix.h"

#define CORE "exec sleep 1000"

struct want {
	const char *id;
	enum svc_state st;
	int count;
};

static bool has_events(struct supfix *f, const void *arg)
{
	const struct want *w = arg;

	return supfix_count_events(f, w->id, w->st) >= w->count;
}

static bool state_is(struct supfix *f, const void *arg)
{
	const struct want *w = arg;

	return supfix_state_is(f, w->id, w->st);
}

/* The service has written something: used as "ready" by services that print it. */
static bool has_output(struct supfix *f, const void *arg)
{
	struct svc *s = supervisor_find(&f->sup, arg);

	return s && s->log.head > 0;
}

static bool all_down(struct supfix *f, const void *arg)
{
	(void)arg;
	return f->all_down;
}

/*
 * Applies {machined, extra...}; the core spec repeats the fixture's. The specs are
 * consumed either way (supervisor_set leaves them to us when it refuses the set).
 */
static int apply(struct supfix *f, struct spec *extra, size_t n, char *err, size_t errlen)
{
	struct spec set[8];
	int r;

	supfix_spec(&set[0], "machined", CORE, NULL);
	for (size_t i = 0; i < n; i++)
		set[i + 1] = extra[i];
	r = supervisor_set(&f->sup, set, n + 1, err, errlen);
	if (r < 0)
		for (size_t i = 0; i < n + 1; i++)
			spec_fini(&set[i]);
	return r;
}

static void test_core_starts(void **state)
{
	struct supfix f;
	struct want w = { "machined", SVC_RUNNING, 1 };

	(void)state;
	supfix_start(&f, CORE);
	assert_true(supfix_run_until(&f, has_events, &w, 2000));
	assert_true(supervisor_find(&f.sup, "machined")->pid > 0);
	supfix_stop(&f);
}

static void test_crash_loop_backs_off(void **state)
{
	struct supfix f;
	struct spec s;
	struct svc_opts o = { .base_ms = 40, .max_ms = 160 };
	struct want w = { "crash", SVC_RUNNING, 6 };
	const uint64_t expect[] = { 0, 40, 80, 160, 160 };  /* restart k after exit k */
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	supfix_spec(&s, "crash", "exit 3", &o);
	assert_int_equal(apply(&f, &s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w, 5000));
	for (int k = 0; k < 5; k++) {
		long exit_ev = supfix_find_event(&f, "crash", SVC_BACKOFF, k);
		long next = supfix_find_event(&f, "crash", SVC_RUNNING, k + 1);
		uint64_t gap;

		assert_true(exit_ev >= 0 && next > exit_ev);
		gap = f.ev[next].t_ms - f.ev[exit_ev].t_ms;
		if (gap < expect[k] || gap > expect[k] + 60)
			fail_msg("restart %d came %llu ms after the exit, want %llu ms", k + 1,
				 (unsigned long long)gap, (unsigned long long)expect[k]);
	}
	assert_true(supervisor_find(&f.sup, "crash")->restarts >= 5);
	assert_int_equal(supervisor_find(&f.sup, "crash")->last_exit, 3);
	supfix_stop(&f);
}

/* After a run of SVC_STABLE_MS (10 s) or more, the next restart is immediate again: the
 * service crashes fast three times (backing off), then runs 10.2 s and exits. */
static void test_stable_run_resets_backoff(void **state)
{
	struct supfix f;
	struct spec s;
	struct svc_opts o = { .base_ms = 200, .max_ms = 800 };
	struct want w = { "flaky", SVC_RUNNING, 5 };
	char cmd[256], path[] = "/tmp/basalt-stable-XXXXXX";
	char err[256];
	int fd = mkstemp(path);
	long exit_ev, next;
	uint64_t gap;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "n=$(wc -l <%s); echo x >>%s; if [ \"$n\" -ge 3 ]; then sleep 10.2; fi; exit 3", path, path);
	supfix_start(&f, CORE);
	supfix_spec(&s, "flaky", cmd, &o);
	assert_int_equal(apply(&f, &s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w, 15000));
	/* Restarts 1-3 back off (0, 200, 400 ms); restart 4 follows the long run at once. */
	exit_ev = supfix_find_event(&f, "flaky", SVC_BACKOFF, 2);
	next = supfix_find_event(&f, "flaky", SVC_RUNNING, 3);
	assert_true(exit_ev >= 0 && next > exit_ev);
	gap = f.ev[next].t_ms - f.ev[exit_ev].t_ms;
	if (gap < 400)
		fail_msg("restart 3 came %llu ms after a fast crash, want the 400 ms backoff", (unsigned long long)gap);
	exit_ev = supfix_find_event(&f, "flaky", SVC_BACKOFF, 3);
	next = supfix_find_event(&f, "flaky", SVC_RUNNING, 4);
	assert_true(exit_ev >= 0 && next > exit_ev);
	gap = f.ev[next].t_ms - f.ev[exit_ev].t_ms;
	if (gap > 60)
		fail_msg("restart after a 10.2 s run came %llu ms after the exit, want at once", (unsigned long long)gap);
	supfix_stop(&f);
	unlink(path);
}

static void test_restart_policies(void **state)
{
	struct supfix f;
	struct spec s[3];
	struct svc_opts never = { .restart = SPEC_RESTART_NEVER };
	struct svc_opts onfail = { .restart = SPEC_RESTART_ON_FAILURE, .base_ms = 1000 };
	struct want w1 = { "once", SVC_FINISHED, 1 }, w2 = { "ok", SVC_FINISHED, 1 };
	struct want w3 = { "bad", SVC_BACKOFF, 1 };
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	supfix_spec(&s[0], "once", "exit 1", &never);
	supfix_spec(&s[1], "ok", "exit 0", &onfail);
	supfix_spec(&s[2], "bad", "exit 2", &onfail);
	assert_int_equal(apply(&f, s, 3, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w1, 3000));
	assert_true(supfix_run_until(&f, has_events, &w2, 3000));
	assert_true(supfix_run_until(&f, has_events, &w3, 3000));
	assert_int_equal(supervisor_find(&f.sup, "once")->restarts, 0);
	assert_int_equal(supervisor_find(&f.sup, "once")->last_exit, 1);
	assert_int_equal(supervisor_find(&f.sup, "ok")->last_exit, 0);
	supfix_stop(&f);
}

static void test_exec_failure_is_reported(void **state)
{
	Basalt__Init__ServiceSpec pb = BASALT__INIT__SERVICE_SPEC__INIT;
	char *argv[] = { "/nonexistent/binary" };
	struct supfix f;
	struct spec s;
	struct want w = { "ghost", SVC_BACKOFF, 1 };
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	pb.id = "ghost";
	pb.argv = argv;
	pb.n_argv = 1;
	pb.backoff_base_ms = 5000;
	assert_int_equal(spec_from_pb(&s, &pb, err, sizeof(err)), 0);
	assert_int_equal(apply(&f, &s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w, 2000));
	assert_string_equal(supervisor_find(&f.sup, "ghost")->message,
			    "exec /nonexistent/binary: No such file or directory");
	assert_int_equal(supervisor_find(&f.sup, "ghost")->last_exit, 127);
	supfix_stop(&f);
}

static void test_dependency_order(void **state)
{
	struct supfix f;
	struct spec s[2];
	struct svc_opts dep = { .dep = "base", .stop_timeout_ms = 2000 };
	struct svc_opts plain = { .stop_timeout_ms = 2000 };
	struct want w = { "top", SVC_RUNNING, 1 };
	long base_up, top_up, top_down, base_stop;
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	/* Listed dependent-first: the order must come from the dependency, not the list. */
	supfix_spec(&s[0], "top", "exec sleep 1000", &dep);
	supfix_spec(&s[1], "base", "exec sleep 1000", &plain);
	assert_int_equal(apply(&f, s, 2, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w, 2000));
	base_up = supfix_find_event(&f, "base", SVC_RUNNING, 0);
	top_up = supfix_find_event(&f, "top", SVC_RUNNING, 0);
	assert_true(base_up >= 0 && top_up > base_up);

	supervisor_stop_all(&f.sup);
	assert_true(supfix_run_until(&f, all_down, NULL, 5000));
	top_down = supfix_find_event(&f, "top", SVC_DOWN, 0);
	base_stop = supfix_find_event(&f, "base", SVC_STOPPING, 0);
	assert_true(top_down >= 0 && base_stop > top_down);
	/* The core service stops last. */
	assert_true(supfix_find_event(&f, "machined", SVC_STOPPING, 0) >
		    supfix_find_event(&f, "base", SVC_DOWN, 0));
	supfix_stop(&f);
}

static void test_stop_timeout_kills(void **state)
{
	struct supfix f;
	struct spec s;
	struct svc_opts o = { .stop_timeout_ms = 150 };
	struct want w = { "stubborn", SVC_RUNNING, 1 };
	uint64_t t0, took;
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	supfix_spec(&s, "stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done", &o);
	assert_int_equal(apply(&f, &s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &w, 2000));
	assert_true(supfix_run_until(&f, has_output, "stubborn", 2000));  /* trap is set */
	t0 = mono_ms();
	supervisor_stop_all(&f.sup);
	assert_true(supfix_run_until(&f, all_down, NULL, 5000));
	took = mono_ms() - t0;
	if (took < 150 || took > 2000)
		fail_msg("stop took %llu ms; SIGKILL due after 150 ms", (unsigned long long)took);
	assert_int_equal(supervisor_find(&f.sup, "stubborn")->last_exit, 128 + 9);
	supfix_stop(&f);
}

static void test_set_changes(void **state)
{
	struct supfix f;
	struct spec s[2];
	struct want up = { "worker", SVC_RUNNING, 1 }, up2 = { "worker", SVC_RUNNING, 2 };
	struct want gone = { "worker", SVC_DOWN, 1 };
	int pid1;
	char err[256];

	(void)state;
	supfix_start(&f, CORE);
	supfix_spec(&s[0], "worker", "exec sleep 1000", NULL);
	assert_int_equal(apply(&f, s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &up, 2000));
	pid1 = supervisor_find(&f.sup, "worker")->pid;

	/* The same set again changes nothing. */
	supfix_spec(&s[0], "worker", "exec sleep 1000", NULL);
	assert_int_equal(apply(&f, s, 1, err, sizeof(err)), 0);
	assert_int_equal(supervisor_find(&f.sup, "worker")->pid, pid1);

	/* A changed spec restarts it. */
	supfix_spec(&s[0], "worker", "exec sleep 1001", NULL);
	assert_int_equal(apply(&f, s, 1, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &up2, 3000));
	assert_int_not_equal(supervisor_find(&f.sup, "worker")->pid, pid1);

	/* An invalid set is refused whole: the running one stays. */
	supfix_spec(&s[0], "worker", "exec sleep 1", NULL);
	supfix_spec(&s[1], "extra", "exec sleep 1", &(struct svc_opts){ .dep = "missing" });
	assert_int_equal(apply(&f, s, 2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "service extra depends on unknown service \"missing\"");
	assert_true(supfix_state_is(&f, "worker", SVC_RUNNING));

	/* Dropping it stops and removes it. */
	assert_int_equal(apply(&f, NULL, 0, err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &gone, 3000));
	assert_true(f.ev[supfix_find_event(&f, "worker", SVC_DOWN, 0)].removed);
	assert_null(supervisor_find(&f.sup, "worker"));
	supfix_stop(&f);
}

static void test_explicit_restart(void **state)
{
	struct supfix f;
	struct want up2 = { "machined", SVC_RUNNING, 2 };
	char err[256];
	int pid1;

	(void)state;
	supfix_start(&f, CORE);
	assert_true(supfix_run_until(&f, state_is, &(struct want){ "machined", SVC_RUNNING, 0 }, 2000));
	pid1 = supervisor_find(&f.sup, "machined")->pid;
	assert_int_equal(supervisor_restart(&f.sup, "machined", err, sizeof(err)), 0);
	assert_true(supfix_run_until(&f, has_events, &up2, 3000));
	assert_int_not_equal(supervisor_find(&f.sup, "machined")->pid, pid1);
	assert_int_equal(supervisor_find(&f.sup, "machined")->restarts, 1);
	assert_int_equal(supervisor_restart(&f.sup, "nope", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no service named nope");
	supfix_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_starts),
		cmocka_unit_test(test_crash_loop_backs_off),
		cmocka_unit_test(test_stable_run_resets_backoff),
		cmocka_unit_test(test_restart_policies),
		cmocka_unit_test(test_exec_failure_is_reported),
		cmocka_unit_test(test_dependency_order),
		cmocka_unit_test(test_stop_timeout_kills),
		cmocka_unit_test(test_set_changes),
		cmocka_unit_test(test_explicit_restart),
	};

	return cmocka_run_group_tests_name("supervisor", tests, NULL, NULL);
}

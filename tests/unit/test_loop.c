/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/loop.h"

#define NT 500

struct rec {
	int order[NT];
	int n;
};

struct tctx {
	struct rec *rec;
	int id;
};

static void fire(void *arg)
{
	struct tctx *t = arg;

	t->rec->order[t->rec->n++] = t->id;
}

static void run_until(struct loop *loop, int *counter, int want)
{
	uint64_t deadline = mono_ms() + 3000;

	while (*counter < want && mono_ms() < deadline)
		assert_int_equal(loop_run_once(loop, 50), 0);
}

static void test_timers_fire_in_deadline_order(void **state)
{
	static struct loop_timer timers[NT];
	static struct tctx ctx[NT];
	static uint64_t due[NT];
	struct rec rec = { 0 };
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	srand(7);
	for (int i = 0; i < NT; i++) {
		ctx[i] = (struct tctx){ &rec, i };
		loop_timer_init(&timers[i], fire, &ctx[i]);
	}
	/* Arm in scrambled order with distinct delays; cancel every fifth. */
	for (int k = 0; k < NT; k++) {
		int i = (k * 7919) % NT;

		assert_int_equal(loop_timer_arm(loop, &timers[i], (uint64_t)(i / 10)), 0);
		due[i] = timers[i].due_ns;
	}
	for (int i = 0; i < NT; i += 5)
		loop_timer_cancel(loop, &timers[i]);
	run_until(loop, &rec.n, NT - NT / 5);
	assert_int_equal(rec.n, NT - NT / 5);
	/* By deadline, not by delay: arming 500 timers takes long enough under load that a
	 * shorter delay armed later can end after a longer one armed first. */
	for (int k = 1; k < rec.n; k++)
		assert_true(due[rec.order[k - 1]] <= due[rec.order[k]]);
	for (int k = 0; k < rec.n; k++)
		assert_true(rec.order[k] % 5 != 0);
	loop_free(loop);
}

static void test_rearm_moves_deadline(void **state)
{
	struct loop_timer a, b;
	struct rec rec = { 0 };
	struct tctx ca = { &rec, 1 }, cb = { &rec, 2 };
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	loop_timer_init(&a, fire, &ca);
	loop_timer_init(&b, fire, &cb);
	loop_timer_arm(loop, &a, 1);
	loop_timer_arm(loop, &b, 20);
	loop_timer_arm(loop, &a, 60);  /* now after b */
	assert_true(loop_timer_armed(&a));
	run_until(loop, &rec.n, 2);
	assert_int_equal(rec.order[0], 2);
	assert_int_equal(rec.order[1], 1);
	assert_false(loop_timer_armed(&a));
	loop_free(loop);
}

struct pair {
	struct loop *loop;
	struct loop_watch *other;
	int fired;
};

/* Deletes the other watch while both are ready in the same epoll batch. */
static void on_ready(void *arg, uint32_t events)
{
	struct pair *p = arg;

	(void)events;
	p->fired++;
	if (p->other) {
		loop_watch_del(p->loop, p->other);
		p->other = NULL;
	}
}

static void test_delete_watch_during_batch(void **state)
{
	int a[2], b[2];
	struct pair pa = { 0 }, pb = { 0 };
	struct loop_watch *wa, *wb;
	struct loop *loop;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pa.loop = pb.loop = loop;
	assert_int_equal(loop_watch_add(loop, a[0], EPOLLIN, on_ready, &pa, &wa), 0);
	assert_int_equal(loop_watch_add(loop, b[0], EPOLLIN, on_ready, &pb, &wb), 0);
	pa.other = wb;
	pb.other = wa;
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(loop_run_once(loop, 100), 0);
	/* Exactly one ran; the other was deleted before its turn and must not run (ASan
	 * would catch a use after free here). */
	assert_int_equal(pa.fired + pb.fired, 1);
	loop_watch_del(loop, pa.fired ? wa : wb);
	loop_free(loop);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void on_usr1(void *arg, const struct signalfd_siginfo *si)
{
	int *got = arg;

	*got = (int)si->ssi_signo;
}

static void test_signals_through_the_loop(void **state)
{
	struct loop *loop;
	int got = 0;

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(loop_signal(loop, SIGUSR1, on_usr1, &got), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	run_until(loop, &got, 1);
	assert_int_equal(got, SIGUSR1);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_rearm_moves_deadline),
		cmocka_unit_test(test_delete_watch_during_batch),
		cmocka_unit_test(test_signals_through_the_loop),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}

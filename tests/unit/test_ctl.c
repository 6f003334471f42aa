/* SPDX-License-Identifier: MIT */
/* init's control protocol over a socketpair: good requests, and bad bytes of every kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/frame.h"
#include "tests/unit/supfix.h"

#define CORE "exec sleep 1000"

struct client {
	int fd;
	struct buf in;
	bool closed;
};

static struct supfix F;

/* With small socket buffers (bufsize > 0), what init sends waits in its own queue. */
static void connect_client_buf(struct client *c, int bufsize)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	if (bufsize > 0) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	}
	assert_int_equal(ctl_attach(&F.ctl, sv[0]), 0);
	c->fd = sv[1];
	c->closed = false;
	buf_init(&c->in);
}

static void connect_client(struct client *c)
{
	connect_client_buf(c, 0);
}

static void close_client(struct client *c)
{
	close(c->fd);
	buf_fini(&c->in);
}

static size_t frames(const struct client *c)
{
	size_t n = 0, off = 0, len;

	while (frame_peek(c->in.data + c->in.off + off, c->in.len - off, 1 << 24, &len) == 1) {
		off += FRAME_HDR + len;
		n++;
	}
	return n;
}

/* Runs the server until the client holds want frames, the server hangs up, or 2 s pass. */
static void pump(struct client *c, size_t want)
{
	uint64_t deadline = mono_ms() + 2000;

	while (mono_ms() < deadline && !c->closed && frames(c) < want) {
		ssize_t r;

		assert_int_equal(loop_run_once(F.loop, 10), 0);
		while ((r = buf_read_fd(&c->in, c->fd, 65536)) > 0)
			;
		if (r == 0)
			c->closed = true;
	}
}

static Basalt__Init__Response *next(struct client *c)
{
	Basalt__Init__Response *r;
	size_t len;

	if (frame_peek(buf_head(&c->in), c->in.len, 1 << 24, &len) != 1)
		return NULL;
	r = basalt__init__response__unpack(NULL, len, buf_head(&c->in) + FRAME_HDR);
	buf_consume(&c->in, FRAME_HDR + len);
	return r;
}

static void send_raw(struct client *c, const void *p, size_t n)
{
	assert_int_equal(write(c->fd, p, n), (ssize_t)n);
}

static void send_req(struct client *c, Basalt__Init__Request *req)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(frame_append_msg(&b, &req->base, 1 << 20), 0);
	send_raw(c, buf_head(&b), b.len);
	buf_fini(&b);
}

static int setup(void **state)
{
	(void)state;
	supfix_start(&F, CORE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	supfix_stop(&F);
	return 0;
}

static void test_list(void **state)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__ListServices ls = BASALT__INIT__LIST_SERVICES__INIT;
	Basalt__Init__Response *r;
	struct client c;

	(void)state;
	connect_client(&c);
	req.id = 7;
	req.op_case = BASALT__INIT__REQUEST__OP_LIST_SERVICES;
	req.list_services = &ls;
	send_req(&c, &req);
	pump(&c, 1);
	r = next(&c);
	assert_non_null(r);
	assert_int_equal(r->id, 7);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->result_case, BASALT__INIT__RESPONSE__RESULT_SERVICES);
	assert_int_equal(r->services->n_services, 1);
	assert_string_equal(r->services->services[0]->id, "machined");
	assert_int_equal(r->services->services[0]->state, BASALT__INIT__SERVICE_STATE__STATE_RUNNING);
	assert_true(r->services->services[0]->pid > 0);
	basalt__init__response__free_unpacked(r, NULL);
	close_client(&c);
}

static void expect_error_and_hangup(struct client *c, int err, const char *msg)
{
	Basalt__Init__Response *r;

	pump(c, 1);
	r = next(c);
	assert_non_null(r);
	assert_int_equal(r->error, err);
	assert_string_equal(r->message, msg);
	basalt__init__response__free_unpacked(r, NULL);
	pump(c, 99);
	assert_true(c->closed);
}

static void test_garbage_body(void **state)
{
	const uint8_t junk[] = { 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct client c;

	(void)state;
	connect_client(&c);
	send_raw(&c, junk, sizeof(junk));
	expect_error_and_hangup(&c, EBADMSG, "malformed request: not a basalt.init.Request");
	close_client(&c);
	/* The supervisor carries on serving others. */
	test_list(state);
}

static void test_oversized_declared_length(void **state)
{
	const uint8_t hdr[] = { 0x00, 0x04, 0x00, 0x01 };  /* 256 KiB + 1 */
	struct client c;

	(void)state;
	connect_client(&c);
	send_raw(&c, hdr, sizeof(hdr));
	expect_error_and_hangup(&c, EMSGSIZE, "request exceeds 262144 bytes");
	close_client(&c);
}

static void test_garbage_before_anything(void **state)
{
	const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";  /* 'GET ' as a length: huge */
	struct client c;

	(void)state;
	connect_client(&c);
	send_raw(&c, text, sizeof(text) - 1);
	expect_error_and_hangup(&c, EMSGSIZE, "request exceeds 262144 bytes");
	close_client(&c);
}

static void test_truncated_then_gone(void **state)
{
	const uint8_t part[] = { 0, 0, 0, 50, 8, 1 };
	struct client c;
	size_t before = F.ctl.nconns;

	(void)state;
	connect_client(&c);
	send_raw(&c, part, sizeof(part));
	pump(&c, 1);
	assert_int_equal(frames(&c), 0);  /* nothing to answer yet */
	close_client(&c);
	for (int i = 0; i < 20 && F.ctl.nconns > before - 0; i++)
		assert_int_equal(loop_run_once(F.loop, 10), 0);
	assert_int_equal(F.ctl.nconns, before);
}

static void test_byte_by_byte_and_pipelined(void **state)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__ListServices ls = BASALT__INIT__LIST_SERVICES__INIT;
	Basalt__Init__Response *r;
	struct client c;
	struct buf b;

	(void)state;
	connect_client(&c);
	buf_init(&b);
	req.op_case = BASALT__INIT__REQUEST__OP_LIST_SERVICES;
	req.list_services = &ls;
	req.id = 1;
	assert_int_equal(frame_append_msg(&b, &req.base, 1024), 0);
	req.id = 2;
	assert_int_equal(frame_append_msg(&b, &req.base, 1024), 0);
	for (size_t i = 0; i < b.len; i++) {
		send_raw(&c, buf_head(&b) + i, 1);
		assert_int_equal(loop_run_once(F.loop, 0), 0);
	}
	pump(&c, 2);
	for (uint64_t id = 1; id <= 2; id++) {
		r = next(&c);
		assert_non_null(r);
		assert_int_equal(r->id, id);
		assert_int_equal(r->result_case, BASALT__INIT__RESPONSE__RESULT_SERVICES);
		basalt__init__response__free_unpacked(r, NULL);
	}
	buf_fini(&b);
	close_client(&c);
}

static void test_semantic_errors(void **state)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	Basalt__Init__SignalService sig = BASALT__INIT__SIGNAL_SERVICE__INIT;
	Basalt__Init__Response *r;
	struct client c;

	(void)state;
	connect_client(&c);
	req.id = 1;  /* no operation at all */
	send_req(&c, &req);
	req.id = 2;  /* an empty set lacks the core service */
	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = &set;
	send_req(&c, &req);
	req.id = 3;
	req.op_case = BASALT__INIT__REQUEST__OP_SIGNAL_SERVICE;
	req.signal_service = &sig;
	sig.id = "machined";
	send_req(&c, &req);
	pump(&c, 3);
	r = next(&c);
	assert_int_equal(r->error, EOPNOTSUPP);
	basalt__init__response__free_unpacked(r, NULL);
	r = next(&c);
	assert_int_equal(r->error, EINVAL);
	assert_string_equal(r->message, "the set must include machined (init's core service)");
	basalt__init__response__free_unpacked(r, NULL);
	r = next(&c);
	assert_int_equal(r->error, EINVAL);
	assert_string_equal(r->message, "unsupported signal");
	basalt__init__response__free_unpacked(r, NULL);
	assert_false(c.closed);  /* well-formed requests with bad content keep the connection */
	close_client(&c);
}

static void test_read_log_and_end_marker(void **state)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	Basalt__Init__ServiceSpec core = BASALT__INIT__SERVICE_SPEC__INIT;
	Basalt__Init__ServiceSpec talker = BASALT__INIT__SERVICE_SPEC__INIT;
	Basalt__Init__ServiceSpec *specs[] = { &core, &talker };
	Basalt__Init__ReadLog rl = BASALT__INIT__READ_LOG__INIT;
	Basalt__Init__Response *r;
	char *core_argv[] = { "/bin/sh", "-c", CORE };
	char *talk_argv[] = { "/bin/sh", "-c", "echo hello from talker; echo to stderr >&2; exec sleep 1000" };
	struct client c;
	char got[256] = "";
	struct svc *s;

	(void)state;
	connect_client(&c);
	core.id = "machined";
	core.argv = core_argv;
	core.n_argv = 3;
	talker.id = "talker";
	talker.argv = talk_argv;
	talker.n_argv = 3;
	set.services = specs;
	set.n_services = 2;
	req.id = 10;
	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = &set;
	send_req(&c, &req);
	pump(&c, 1);
	r = next(&c);
	assert_int_equal(r->error, 0);
	basalt__init__response__free_unpacked(r, NULL);
	s = supervisor_find(&F.sup, "talker");
	assert_non_null(s);
	for (int i = 0; i < 200 && s->log.head < 32; i++)
		assert_int_equal(loop_run_once(F.loop, 10), 0);

	rl.id = "talker";
	req.id = 11;
	req.op_case = BASALT__INIT__REQUEST__OP_READ_LOG;
	req.read_log = &rl;
	send_req(&c, &req);
	pump(&c, 2);
	r = next(&c);
	assert_int_equal(r->result_case, BASALT__INIT__RESPONSE__RESULT_LOG);
	memcpy(got, r->log->data.data, r->log->data.len < 255 ? r->log->data.len : 255);
	assert_string_equal(got, "hello from talker\nto stderr\n");
	assert_int_equal(r->log->offset, 0);
	basalt__init__response__free_unpacked(r, NULL);
	r = next(&c);  /* the end of a one-shot read */
	assert_int_equal(r->id, 11);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->result_case, BASALT__INIT__RESPONSE__RESULT__NOT_SET);
	basalt__init__response__free_unpacked(r, NULL);

	rl.id = "nobody";
	req.id = 12;
	send_req(&c, &req);
	pump(&c, 1);
	r = next(&c);
	assert_int_equal(r->error, ENOENT);
	assert_string_equal(r->message, "no service named nobody");
	basalt__init__response__free_unpacked(r, NULL);
	close_client(&c);
}

/*
 * A SetServices with the core and up to four more services named PREFIX1..PREFIX4 (NULL:
 * the core alone); what changes notifies every watcher.
 */
static void send_set_n(struct client *c, uint64_t id, const char *prefix, size_t n)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	Basalt__Init__ServiceSpec sp[5];
	Basalt__Init__ServiceSpec *specs[5];
	char *core_argv[] = { "/bin/sh", "-c", CORE };
	char *other_argv[] = { "/bin/sh", "-c", "exec sleep 1000" };
	char names[4][16];

	for (size_t i = 0; i < 5; i++) {
		basalt__init__service_spec__init(&sp[i]);
		specs[i] = &sp[i];
		sp[i].argv = i ? other_argv : core_argv;
		sp[i].n_argv = 3;
	}
	sp[0].id = "machined";
	for (size_t i = 0; prefix && i < n && i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%zu", prefix, i + 1);
		sp[i + 1].id = names[i];
	}
	set.services = specs;
	set.n_services = prefix ? 1 + (n < 4 ? n : 4) : 1;
	req.id = id;
	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = &set;
	send_req(c, &req);
}

static void send_set(struct client *c, uint64_t id, const char *extra)
{
	send_set_n(c, id, extra, 1);
}

static void send_watch(struct client *c, uint64_t id)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__WatchServices w = BASALT__INIT__WATCH_SERVICES__INIT;

	req.id = id;
	req.op_case = BASALT__INIT__REQUEST__OP_WATCH_SERVICES;
	req.watch_services = &w;
	send_req(c, &req);
}

/* After what a test did to init, a new client's SetServices is answered (other stays open). */
static void expect_served(struct client *other, uint64_t id)
{
	Basalt__Init__Response *r;

	connect_client(other);
	send_set(other, id, NULL);
	pump(other, 1);
	r = next(other);
	assert_non_null(r);
	assert_int_equal(r->id, id);
	assert_int_equal(r->error, 0);
	basalt__init__response__free_unpacked(r, NULL);
}

/*
 * A watcher that changes the services and is gone before the answer: the change's events
 * fail to reach it and close it inside the SetServices it sent (it was freed there, then
 * answered: a use-after-free in PID 1 under ASan). init stays up and serves others.
 */
static void test_watch_set_then_gone(void **state)
{
	struct client c, other;

	(void)state;
	for (int round = 0; round < 4; round++) {
		connect_client(&c);
		send_watch(&c, 1);
		send_set(&c, 2, round % 2 ? NULL : "extra");
		close(c.fd);
		for (int i = 0; i < 20; i++)
			assert_int_equal(loop_run_once(F.loop, 5), 0);
		buf_fini(&c.in);
	}
	expect_served(&other, 3);
	assert_int_equal(F.ctl.nconns, 1);
	close_client(&other);
}

/* RestartService or SignalService (SIGTERM) of the core, then the client gone at once. */
static void send_restart_or_signal(struct client *c, uint64_t id, bool signal)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__RestartService rs = BASALT__INIT__RESTART_SERVICE__INIT;
	Basalt__Init__SignalService ss = BASALT__INIT__SIGNAL_SERVICE__INIT;

	req.id = id;
	if (signal) {
		ss.id = "machined";
		ss.signal = BASALT__INIT__SIGNAL__SIGNAL_TERM;
		req.op_case = BASALT__INIT__REQUEST__OP_SIGNAL_SERVICE;
		req.signal_service = &ss;
	} else {
		rs.id = "machined";
		req.op_case = BASALT__INIT__REQUEST__OP_RESTART_SERVICE;
		req.restart_service = &rs;
	}
	send_req(c, &req);
}

/*
 * The same through RestartService and SignalService: each changes a service inside its
 * own request's handling (do_restart, do_signal), whose events reach a watcher that is gone
 * and close it there; the reply must not go to the freed connection.
 */
static void test_watch_restart_or_signal_then_gone(void **state)
{
	struct client c, other;

	(void)state;
	for (int round = 0; round < 6; round++) {
		connect_client(&c);
		send_set(&c, 1, NULL);
		send_watch(&c, 2);
		for (int i = 0; i < 10; i++)
			assert_int_equal(loop_run_once(F.loop, 5), 0);
		send_restart_or_signal(&c, 3, round % 2);
		close(c.fd);
		for (int i = 0; i < 20; i++)
			assert_int_equal(loop_run_once(F.loop, 5), 0);
		buf_fini(&c.in);
	}
	expect_served(&other, 4);
	assert_int_equal(F.ctl.nconns, 1);
	close_client(&other);
}

/*
 * A watcher that stops reading falls more than CTL_MAX_QUEUED behind (16 KiB in this
 * build: tests/build.mk) while SetServices requests it sends swap four services for four
 * others: most of the events come inside its own request's handling, where it is dropped
 * (before the fix, in most rounds, a use-after-free in PID 1 under ASan). Nothing touches
 * it afterwards, and init serves the next client.
 */
static void test_watch_overflow_during_dispatch(void **state)
{
	struct client c, other;

	(void)state;
	for (int round = 0; round < 6; round++) {
		bool closed = false;

		connect_client_buf(&c, 4096);
		send_watch(&c, 1);
		for (uint64_t id = 2; id < 300 && !closed; id++) {
			send_set_n(&c, id, id % 2 ? "x" : "y", 4);
			for (int i = 0; i < 3; i++)
				assert_int_equal(loop_run_once(F.loop, 1), 0);
			closed = F.ctl.nconns == 0;
		}
		assert_true(closed);
		close_client(&c);
	}
	expect_served(&other, 1000);
	close_client(&other);
}

/* Sends a Power request and returns the error of its answer (0: acknowledged). */
static int power_request(struct client *c, uint64_t id, char **wipe, size_t nwipe)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__Power pw = BASALT__INIT__POWER__INIT;
	Basalt__Init__Response *r;
	int e;

	pw.action = BASALT__INIT__POWER_ACTION__POWER_REBOOT;
	pw.wipe = wipe;
	pw.n_wipe = nwipe;
	req.id = id;
	req.op_case = BASALT__INIT__REQUEST__OP_POWER;
	req.power = &pw;
	F.power_action = 0;
	send_req(c, &req);
	pump(c, 1);
	r = next(c);
	assert_non_null(r);
	e = (int)r->error;
	basalt__init__response__free_unpacked(r, NULL);
	return e;
}

static void test_power_acknowledged_first(void **state)
{
	struct client c;

	(void)state;
	connect_client(&c);
	assert_int_equal(power_request(&c, 5, NULL, 0), 0);
	assert_int_equal(F.power_action, BASALT__INIT__POWER_ACTION__POWER_REBOOT);
	close_client(&c);
}

/* Wipe devices are handed on only when every one is a plain path under /dev. */
static void test_power_wipe_checked(void **state)
{
	static const char *const bad[] = { "/etc/passwd", "/dev/../etc/shadow", "/dev/", "/dev/vda 5", "/dev//vda" };
	char *good[] = { "/dev/vda5", "/dev/nvme0n1p6" }, *one[1];
	struct client c;

	(void)state;
	connect_client(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = (char *)bad[i];
		assert_int_equal(power_request(&c, 10 + i, one, 1), EINVAL);
		assert_int_equal(F.power_action, 0);
	}
	assert_int_equal(power_request(&c, 20, good, 2), 0);
	assert_int_equal(F.power_action, BASALT__INIT__POWER_ACTION__POWER_REBOOT);
	assert_int_equal(F.nwipe, 2);
	assert_string_equal(F.wipe[0], "/dev/vda5");
	assert_string_equal(F.wipe[1], "/dev/nvme0n1p6");
	close_client(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_garbage_body),
		cmocka_unit_test(test_oversized_declared_length),
		cmocka_unit_test(test_garbage_before_anything),
		cmocka_unit_test(test_truncated_then_gone),
		cmocka_unit_test(test_byte_by_byte_and_pipelined),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_read_log_and_end_marker),
		cmocka_unit_test(test_watch_set_then_gone),
		cmocka_unit_test(test_watch_overflow_during_dispatch),
		cmocka_unit_test(test_watch_restart_or_signal_then_gone),
		cmocka_unit_test(test_power_acknowledged_first),
		cmocka_unit_test(test_power_wipe_checked),
	};

	return cmocka_run_group_tests_name("ctl", tests, setup, teardown);
}

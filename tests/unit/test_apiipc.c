/* SPDX-License-Identifier: MIT */
/*
 * The core/apid link: messages reassembled from chunks, and every malformed datagram
 * refused (the core kills an apid that sends one). Also a round trip over a real
 * SOCK_SEQPACKET socketpair, with a message larger than one datagram.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "machined/api/apiipc.h"

static uint8_t dg[IPC_HDR + IPC_CHUNK + 16];
static char why[160];

static size_t mk(uint8_t type, uint8_t flags, uint32_t call, uint32_t total, uint32_t aux, size_t payload)
{
	memset(dg, 0, sizeof(dg));
	dg[0] = type;
	dg[1] = flags;
	dg[4] = (uint8_t)(call >> 24), dg[5] = (uint8_t)(call >> 16), dg[6] = (uint8_t)(call >> 8), dg[7] = (uint8_t)call;
	dg[8] = (uint8_t)(total >> 24), dg[9] = (uint8_t)(total >> 16), dg[10] = (uint8_t)(total >> 8), dg[11] = (uint8_t)total;
	dg[12] = (uint8_t)(aux >> 24), dg[13] = (uint8_t)(aux >> 16), dg[14] = (uint8_t)(aux >> 8), dg[15] = (uint8_t)aux;
	memset(dg + IPC_HDR, 'x', payload);
	return IPC_HDR + payload;
}

static int feed(struct ipc_rx *r, size_t n, struct ipc_msg *m)
{
	return ipc_rx_feed(r, dg, n, m, why, sizeof(why));
}

static void test_whole_and_chunked(void **state)
{
	struct ipc_rx r;
	struct ipc_msg m;

	(void)state;
	ipc_rx_init(&r, true);
	assert_int_equal(feed(&r, mk(IPC_REQUEST, 0, 7, 3, 2, 3), &m), 1);
	assert_int_equal(m.type, IPC_REQUEST);
	assert_int_equal(m.call, 7);
	assert_int_equal(m.aux, 2);
	assert_int_equal(m.len, 3);
	assert_int_equal(feed(&r, mk(IPC_REQUEST, IPC_MORE, 8, IPC_CHUNK + 10, 1, IPC_CHUNK), &m), 0);
	assert_int_equal(feed(&r, mk(IPC_REQUEST, 0, 8, IPC_CHUNK + 10, 1, 10), &m), 1);
	assert_int_equal(m.len, IPC_CHUNK + 10);
	assert_int_equal(feed(&r, mk(IPC_ACK, 0, 8, 0, 100, 0), &m), 1);
	ipc_rx_fini(&r);
}

static void expect_bad(bool core, size_t n, const char *want)
{
	struct ipc_rx r;
	struct ipc_msg m;

	ipc_rx_init(&r, core);
	if (feed(&r, n, &m) != -EPROTO)
		fail_msg("accepted: expected '%s'", want);
	if (!strstr(why, want))
		fail_msg("why '%s' does not say '%s'", why, want);
	ipc_rx_fini(&r);
}

static void test_malformed(void **state)
{
	struct ipc_rx r;
	struct ipc_msg m;

	(void)state;
	expect_bad(true, 5, "shorter than the header");
	expect_bad(true, mk(IPC_SETUP, 0, 0, 0, 0, 0), "not one this side receives");  /* core never gets SETUP */
	expect_bad(false, mk(IPC_REQUEST, 0, 1, 0, 0, 0), "not one this side receives");
	expect_bad(true, mk(99, 0, 1, 0, 0, 0), "not one this side receives");
	expect_bad(true, mk(IPC_REQUEST, 0x80, 1, 0, 0, 0), "reserved");
	expect_bad(true, mk(IPC_REQUEST, 0, 1, IPC_MAX_MSG + 1, 0, 0), "over the limit");
	expect_bad(true, mk(IPC_REQUEST, 0, 1, 2, 0, 3), "more than the 2 bytes");
	expect_bad(true, mk(IPC_REQUEST, 0, 1, 5, 0, 3), "ends at 3 of 5");
	expect_bad(true, mk(IPC_REQUEST, IPC_MORE, 1, 100, 0, 10), "not full");
	/* A chunk that does not continue the message before it. */
	ipc_rx_init(&r, true);
	assert_int_equal(feed(&r, mk(IPC_REQUEST, IPC_MORE, 1, IPC_CHUNK + 1, 0, IPC_CHUNK), &m), 0);
	assert_int_equal(feed(&r, mk(IPC_REQUEST, 0, 2, IPC_CHUNK + 1, 0, 1), &m), -EPROTO);
	assert_non_null(strstr(why, "does not continue"));
	ipc_rx_fini(&r);
}

struct got {
	int n;
	size_t len;
	uint32_t aux;
	bool failed;
};

static void on_msg(void *arg, const struct ipc_msg *m)
{
	struct got *g = arg;

	g->n++;
	g->len = m->len;
	g->aux = m->aux;
}

static void on_fail(void *arg, int err, const char *w)
{
	(void)err;
	(void)w;
	((struct got *)arg)->failed = true;
}

static void test_socketpair_round_trip(void **state)
{
	struct loop *loop;
	struct ipc *core, *apid;
	struct got gc = { 0 }, ga = { 0 };
	int sv[2];
	size_t big = 3 * IPC_CHUNK + 123;
	uint8_t *p = calloc(1, big);
	struct ipc_opts oc = { .core = true, .on_msg = on_msg, .on_fail = on_fail, .arg = &gc };
	struct ipc_opts oa = { .core = false, .on_msg = on_msg, .on_fail = on_fail, .arg = &ga };

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	oc.loop = oa.loop = loop;
	oc.fd = sv[0];
	oa.fd = sv[1];
	assert_int_equal(ipc_new(&oc, &core), 0);
	assert_int_equal(ipc_new(&oa, &apid), 0);
	assert_int_equal(ipc_send(core, IPC_REPLY, 5, 0, p, big), 0);
	assert_int_equal(ipc_send(apid, IPC_REQUEST, 5, 3, p, 10), 0);
	for (int i = 0; i < 50 && (ga.n < 1 || gc.n < 1); i++)
		loop_run_once(loop, 10);
	assert_int_equal(ga.n, 1);
	assert_int_equal(ga.len, big);
	assert_int_equal(gc.n, 1);
	assert_int_equal(gc.aux, 3);
	/* A type the core never receives, sent by a misbehaving apid: the core's link fails. */
	assert_int_equal(ipc_send(apid, IPC_SETUP, 0, 0, p, 1), 0);
	for (int i = 0; i < 50 && !gc.failed; i++)
		loop_run_once(loop, 10);
	assert_true(gc.failed);
	ipc_free(core);
	ipc_free(apid);
	loop_free(loop);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_chunked),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_socketpair_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "api/init.pb-c.h"
#include "lib/frame.h"

static void test_peek(void **state)
{
	const uint8_t hdr10[] = { 0, 0, 0, 10, 1, 2, 3, 4, 5 };
	const uint8_t zero[] = { 0, 0, 0, 0 };
	const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff };
	size_t len = 99;

	(void)state;
	assert_int_equal(frame_peek(hdr10, 3, 100, &len), 0);              /* header incomplete */
	assert_int_equal(frame_peek(hdr10, sizeof(hdr10), 100, &len), 0);  /* body incomplete */
	assert_int_equal(frame_peek(zero, 4, 100, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(frame_peek(huge, 4, 1 << 20, &len), -EMSGSIZE);  /* refused at once */
	assert_int_equal(frame_peek(hdr10, 4, 9, &len), -EMSGSIZE);
}

static void test_round_trip(void **state)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT, *back;
	Basalt__Init__ReadLog rl = BASALT__INIT__READ_LOG__INIT;
	struct buf b;
	size_t len;

	(void)state;
	buf_init(&b);
	rl.id = "containerd";
	rl.follow = 1;
	rl.tail_bytes = 4096;
	req.id = 42;
	req.op_case = BASALT__INIT__REQUEST__OP_READ_LOG;
	req.read_log = &rl;
	assert_int_equal(frame_append_msg(&b, &req.base, 1024), 0);
	assert_int_equal(frame_append_msg(&b, &req.base, 1024), 0);  /* two frames back to back */
	assert_int_equal(frame_peek(buf_head(&b), b.len, 1024, &len), 1);
	back = basalt__init__request__unpack(NULL, len, buf_head(&b) + FRAME_HDR);
	assert_non_null(back);
	assert_int_equal(back->id, 42);
	assert_int_equal(back->op_case, BASALT__INIT__REQUEST__OP_READ_LOG);
	assert_string_equal(back->read_log->id, "containerd");
	assert_true(back->read_log->follow);
	assert_int_equal(back->read_log->tail_bytes, 4096);
	basalt__init__request__free_unpacked(back, NULL);
	buf_consume(&b, FRAME_HDR + len);
	assert_int_equal(frame_peek(buf_head(&b), b.len, 1024, &len), 1);
	assert_int_equal(b.len, FRAME_HDR + len);
	buf_fini(&b);
}

static void test_append_oversized(void **state)
{
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;
	char msg[200];
	struct buf b;

	(void)state;
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	resp.message = msg;
	buf_init(&b);
	assert_int_equal(frame_append_msg(&b, &resp.base, 100), -EMSGSIZE);
	assert_int_equal(b.len, 0);  /* nothing half-written */
	buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_append_oversized),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}

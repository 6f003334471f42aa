/* SPDX-License-Identifier: MIT */
/*
 * SNTP (netctl/sntp.c): the request's bytes, replies laid out from RFC 4330's packet format,
 * the offset and delay arithmetic (RFC 4330 section 5), refusals, and the 2036 era change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "netctl/sntp.h"

static char err[128];

#define S(sec, frac) (((uint64_t)(sec) << 32) | (uint64_t)(frac))

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A server's reply: LI/VN/mode, stratum, the timestamps at offsets 24, 32, 40. */
static void reply(uint8_t *p, uint8_t first, uint8_t stratum, uint64_t orig, uint64_t recv, uint64_t xmit)
{
	memset(p, 0, SNTP_PACKET);
	p[0] = first;
	p[1] = stratum;
	p[2] = 6;
	p[3] = (uint8_t)-20;
	memcpy(p + 12, "\x0a\x00\x00\x01", 4);
	put64(p + 24, orig);
	put64(p + 32, recv);
	put64(p + 40, xmit);
}

static void test_request(void **state)
{
	uint8_t b[SNTP_PACKET];

	(void)state;
	sntp_request(b, S(0xe0000000u, 0x12345678u));
	assert_int_equal(b[0], 0x23);  /* LI 0, VN 4, mode 3 */
	for (int i = 1; i < 40; i++)
		assert_int_equal(b[i], 0);
	assert_memory_equal(b + 40, "\xe0\x00\x00\x00\x12\x34\x56\x78", 8);
}

static void test_offset_and_delay(void **state)
{
	uint64_t t1 = S(1000, 0), t2 = S(1010, 0x80000000u), t3 = S(1010, 0x9999999au), t4 = S(1001, 0x1999999au);
	uint8_t p[SNTP_PACKET];
	struct sntp_reply r;
	int64_t off, delay;

	(void)state;
	reply(p, 0x24, 2, t1, t2, t3);  /* VN 4, server */
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), 0);
	assert_int_equal(r.stratum, 2);
	assert_int_equal(r.precision, -20);
	assert_int_equal(r.refid, 0x0a000001);
	sntp_offset(&r, t4, &off, &delay);
	/* ((10.5) + (9.5)) / 2 = 10 s ahead; (1.1 - 0.1) = 1 s round trip */
	assert_in_range(off, 10000000000 - 2, 10000000000 + 2);
	assert_in_range(delay, 1000000000 - 2, 1000000000 + 2);
	/* A clock ahead of the server: a negative offset. */
	sntp_offset(&r, S(1023, 0x1999999au), &off, &delay);
	assert_true(off >= -1000000000 - 2 && off <= -1000000000 + 2);
}

static void test_refusals(void **state)
{
	uint64_t t1 = S(5, 0);
	uint8_t p[SNTP_PACKET];
	struct sntp_reply r;

	(void)state;
	reply(p, 0x24, 0, t1, S(6, 0), S(6, 1));
	memcpy(p + 12, "RATE", 4);
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "kiss-o'-death RATE"));
	reply(p, 0x24, 2, S(4, 0), S(6, 0), S(6, 1));
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "origin"));
	reply(p, 0x23, 2, t1, S(6, 0), S(6, 1));
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "server's reply"));
	reply(p, 0xe4, 2, t1, S(6, 0), S(6, 1));  /* LI 3: unsynchronised */
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not synchronised"));
	reply(p, 0x24, 2, t1, S(6, 0), 0);
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), -1);
	assert_int_equal(sntp_parse(p, 47, t1, &r, err, sizeof(err)), -1);
}

/* Timestamps either side of 2036-02-07, when the seconds field wraps. */
static void test_era(void **state)
{
	uint64_t t1 = S(0xffffffffu, 0x80000000u), t2 = t1 + S(1, 0), t3 = t2, t4 = t1 + S(0, 0x40000000u);
	uint8_t p[SNTP_PACKET];
	struct sntp_reply r;
	int64_t off, delay;
	struct timespec epoch = { 0, 500000000 };

	(void)state;
	reply(p, 0x24, 1, t1, t2, t3);
	assert_int_equal(sntp_parse(p, sizeof(p), t1, &r, err, sizeof(err)), 0);
	sntp_offset(&r, t4, &off, &delay);
	assert_in_range(off, 875000000 - 2, 875000000 + 2);  /* (1 + 0.75) / 2 */
	assert_in_range(delay, 250000000 - 2, 250000000 + 2);
	assert_true(sntp_from_timespec(&epoch) == S(2208988800u, 0x80000000u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_offset_and_delay),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_era),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "netctl/dns.h"

static char err[256];

/* The query for ntp.lab.test, A, id 0x1234, as RFC 1035 4.1 lays it out. */
static const uint8_t query_a[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	3, 'n', 't', 'p', 3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0, 0x00, 0x01, 0x00, 0x01,
};

static void test_query(void **state)
{
	uint8_t buf[DNS_MSG_MAX];
	char long_label[80], long_name[300];

	(void)state;
	assert_int_equal(dns_query(buf, sizeof(buf), 0x1234, "ntp.lab.test", DNS_TYPE_A), sizeof(query_a));
	assert_memory_equal(buf, query_a, sizeof(query_a));
	assert_int_equal(dns_query(buf, sizeof(buf), 0x1234, "ntp.lab.test.", DNS_TYPE_A), sizeof(query_a));
	assert_memory_equal(buf, query_a, sizeof(query_a));
	assert_int_equal(dns_query(buf, sizeof(buf), 1, "", DNS_TYPE_A), 0);
	assert_int_equal(dns_query(buf, sizeof(buf), 1, "a..b", DNS_TYPE_A), 0);
	assert_int_equal(dns_query(buf, sizeof(buf), 1, ".a", DNS_TYPE_A), 0);
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	assert_int_equal(dns_query(buf, sizeof(buf), 1, long_label, DNS_TYPE_A), 0);   /* a 64-byte label */
	for (int i = 0; i < 128; i++)
		memcpy(long_name + 2 * i, "a.", 2);
	long_name[253] = '\0';                                                          /* 253 bytes: the most */
	assert_true(dns_query(buf, sizeof(buf), 1, long_name, DNS_TYPE_A) > 0);
	long_name[253] = '.';
	long_name[254] = 'a';
	long_name[255] = '\0';                                                          /* 255 */
	assert_int_equal(dns_query(buf, sizeof(buf), 1, long_name, DNS_TYPE_A), 0);
	assert_int_equal(dns_query(buf, 20, 1, "ntp.lab.test", DNS_TYPE_A), 0);        /* no room */
}

/* An answer: ntp.lab.test is a CNAME for time.lab.test, which has two A records. */
static const uint8_t answer[] = {
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	3, 'n', 't', 'p', 3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0, 0x00, 0x01, 0x00, 0x01,
	/* ntp.lab.test CNAME time.lab.test (the tail by a pointer to "lab.test" at 16) */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x07, 4, 't', 'i', 'm', 'e', 0xc0, 0x10,
	/* time.lab.test A 10.78.0.1, TTL 300; then A 10.78.0.2, TTL 60 */
	0xc0, 0x2a, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 10, 78, 0, 1,
	0xc0, 0x2a, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 10, 78, 0, 2,
};

static void test_answer(void **state)
{
	struct dns_answer a;

	(void)state;
	assert_int_equal(dns_parse(answer, sizeof(answer), 0x1234, "NTP.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), 0);
	assert_int_equal(a.naddr, 2);
	assert_memory_equal(a.addr[0], ((uint8_t[]){ 10, 78, 0, 1 }), 4);
	assert_memory_equal(a.addr[1], ((uint8_t[]){ 10, 78, 0, 2 }), 4);
	assert_int_equal(a.ttl, 60);
	/* The AAAA question is another question: not ours. */
	assert_int_equal(dns_parse(answer, sizeof(answer), 0x1234, "ntp.lab.test", DNS_TYPE_AAAA, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "the answer's question is not ours");
	/* Every truncation of it is refused, never read past. */
	for (size_t n = 0; n < sizeof(answer); n++)
		assert_int_equal(dns_parse(answer, n, 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
}

static void test_refusals(void **state)
{
	uint8_t m[sizeof(answer)];
	struct dns_answer a;

	(void)state;
	assert_int_equal(dns_parse(answer, sizeof(answer), 0x9999, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "not an answer to our query");
	memcpy(m, answer, sizeof(m));
	m[3] = 0x83;                                                  /* RCODE 3 */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "no such name (NXDOMAIN)");
	memcpy(m, answer, sizeof(m));
	m[2] |= 0x02;                                                 /* TC */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	memcpy(m, answer, sizeof(m));
	m[2] &= 0x7f;                                                 /* a query, not an answer */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	memcpy(m, answer, sizeof(m));
	m[50] = 0x60;                                                 /* the second record's owner pointing forwards */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "answer record 2 malformed");
	memcpy(m, answer, sizeof(m));
	m[31] = 30;                                                   /* the first record's owner points at itself */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
	memcpy(m, answer, sizeof(m));
	m[7] = 9;                                                     /* nine answers claimed, three there */
	assert_int_equal(dns_parse(m, sizeof(m), 0x1234, "ntp.lab.test", DNS_TYPE_A, &a, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}

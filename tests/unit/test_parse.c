/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/parse.h"

static void test_ip_and_cidr(void **state)
{
	struct ipaddr a;
	unsigned p;

	(void)state;
	assert_true(parse_ip("10.0.0.1", &a));
	assert_int_equal(a.family, AF_INET);
	assert_true(parse_ip("fd00::1", &a));
	assert_int_equal(a.family, AF_INET6);
	assert_false(parse_ip("10.0.0.256", NULL));
	assert_false(parse_ip("10.0.0.1/24", NULL));
	assert_false(parse_ip("", NULL));
	assert_true(parse_cidr("10.0.0.0/24", &a, &p));
	assert_int_equal(p, 24);
	assert_true(parse_cidr("::/0", NULL, &p));
	assert_true(parse_cidr("fd00::/128", NULL, NULL));
	assert_false(parse_cidr("10.0.0.0/33", NULL, NULL));
	assert_false(parse_cidr("fd00::/129", NULL, NULL));
	assert_false(parse_cidr("10.0.0.0", NULL, NULL));
	assert_false(parse_cidr("10.0.0.0/", NULL, NULL));
	assert_false(parse_cidr("10.0.0.0/2x", NULL, NULL));
	assert_false(parse_cidr("10.0.0.300/24", NULL, NULL));
}

static void test_mac(void **state)
{
	(void)state;
	assert_true(parse_mac("aa:bb:cc:dd:ee:ff", false));
	assert_true(parse_mac("AA:BB:CC:DD:EE:FF", false));
	assert_false(parse_mac("aa:bb:cc:dd:ee", false));
	assert_false(parse_mac("aa:bb:cc:dd:ee:ff:00", false));
	assert_false(parse_mac("zz:bb:cc:dd:ee:ff", false));
	assert_false(parse_mac("00:50:56:*", false));
	assert_true(parse_mac("00:50:56:*", true));
	assert_true(parse_mac("00:50:5?:aa:bb:cc", true));
}

static void test_hwaddr(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_true(parse_hwaddr("52:54:00:Ab:0c:ff", m));
	assert_memory_equal(m, "\x52\x54\x00\xab\x0c\xff", 6);
	assert_false(parse_hwaddr("52:54:00:ab:0c", m));
	assert_false(parse_hwaddr("52:54:00:*", m));
	assert_false(parse_hwaddr(NULL, m));
}

static void test_duration(void **state)
{
	uint64_t ms;

	(void)state;
	assert_true(parse_duration_ms("90s", &ms));
	assert_int_equal(ms, 90000);
	assert_true(parse_duration_ms("2m0s", &ms));
	assert_int_equal(ms, 120000);
	assert_true(parse_duration_ms("1h30m", &ms));
	assert_int_equal(ms, 5400000);
	assert_true(parse_duration_ms("500ms", &ms));
	assert_int_equal(ms, 500);
	assert_true(parse_duration_ms("1.5s", &ms));
	assert_int_equal(ms, 1500);
	assert_true(parse_duration_ms("0", &ms));
	assert_false(parse_duration_ms("2 minutes", &ms));
	assert_false(parse_duration_ms("10", &ms));
	assert_false(parse_duration_ms("-5s", &ms));
	assert_false(parse_duration_ms("", &ms));
	assert_false(parse_duration_ms("5x", &ms));
}

static void test_size(void **state)
{
	uint64_t b;

	(void)state;
	assert_true(parse_size("4GB", &b));
	assert_int_equal(b, 4000000000ull);
	assert_true(parse_size("100 GiB", &b));
	assert_int_equal(b, 107374182400ull);
	assert_true(parse_size("512", &b));
	assert_int_equal(b, 512);
	assert_false(parse_size("lots", &b));
	assert_false(parse_size("4 parsecs", &b));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(valid_hostname("node-1"));
	assert_true(valid_hostname("node1.example.com"));
	assert_true(valid_hostname("example.com."));
	assert_false(valid_hostname("-node"));
	assert_false(valid_hostname("node-"));
	assert_false(valid_hostname("a..b"));
	assert_false(valid_hostname("no spaces"));
	assert_false(valid_hostname(""));
	assert_true(valid_ifname("eth0"));
	assert_true(valid_ifname("bond0.100"));
	assert_false(valid_ifname("averyveryverylongname"));
	assert_false(valid_ifname("a/b"));
	assert_false(valid_ifname(".."));
}

static void test_urls(void **state)
{
	struct url u;
	char host[64];
	unsigned port;

	(void)state;
	assert_true(parse_url("https://10.0.0.1:6443", &u));
	assert_string_equal(u.scheme, "https");
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 6443);
	assert_true(parse_url("https://[fd00::1]:6443/path", &u));
	assert_string_equal(u.host, "fd00::1");
	assert_string_equal(u.path, "/path");
	assert_true(parse_url("http://example.com", &u));
	assert_int_equal(u.port, 0);
	assert_false(parse_url("example.com", &u));
	assert_false(parse_url("https://", &u));
	assert_false(parse_url("https://host:99999", &u));
	assert_false(parse_url("ht tp://host", &u));
	assert_true(parse_hostport("[fd00::1]:51820", host, sizeof(host), &port));
	assert_string_equal(host, "fd00::1");
	assert_false(parse_hostport("fd00::1:51820", host, sizeof(host), &port));
	assert_false(parse_hostport("host:", host, sizeof(host), &port));
	assert_true(parse_host_opt_port("cp1.example.com", host, sizeof(host), &port));
	assert_string_equal(host, "cp1.example.com");
	assert_int_equal(port, 0);
	assert_true(parse_host_opt_port("[fd00::2]", host, sizeof(host), &port));
	assert_string_equal(host, "fd00::2");
	assert_int_equal(port, 0);
	assert_true(parse_host_opt_port("10.0.0.2:50009", host, sizeof(host), &port));
	assert_string_equal(host, "10.0.0.2");
	assert_int_equal(port, 50009);
	assert_false(parse_host_opt_port("fd00::2", host, sizeof(host), &port));
	assert_false(parse_host_opt_port("[10.0.0.2]", host, sizeof(host), &port));
	assert_false(parse_host_opt_port("[]", host, sizeof(host), &port));
	assert_false(parse_host_opt_port("", host, sizeof(host), &port));
	assert_false(parse_host_opt_port("cp 1", host, sizeof(host), &port));
}

static void test_in_prefix(void **state)
{
	struct ipaddr ip, net;
	unsigned len;

	(void)state;
	assert_true(parse_cidr("10.0.0.0/23", &net, &len));
	assert_true(parse_ip("10.0.1.254", &ip));
	assert_true(ip_in_prefix(&ip, &net, len));
	assert_true(parse_ip("10.0.2.1", &ip));
	assert_false(ip_in_prefix(&ip, &net, len));
	assert_true(parse_cidr("203.0.113.7/32", &net, &len));
	assert_true(parse_ip("172.31.1.1", &ip));
	assert_false(ip_in_prefix(&ip, &net, len));
	assert_true(ip_in_prefix(&ip, &net, 0));
	assert_true(parse_cidr("fd00:1::/61", &net, &len));
	assert_true(parse_ip("fd00:1:0:7::1", &ip));
	assert_true(ip_in_prefix(&ip, &net, len));
	assert_true(parse_ip("fd00:1:0:8::1", &ip));
	assert_false(ip_in_prefix(&ip, &net, len));
	assert_true(parse_ip("10.0.0.1", &ip));
	assert_false(ip_in_prefix(&ip, &net, len));  /* another family */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_and_cidr), cmocka_unit_test(test_mac), cmocka_unit_test(test_hwaddr),
		cmocka_unit_test(test_duration),    cmocka_unit_test(test_size),
		cmocka_unit_test(test_names),       cmocka_unit_test(test_urls),
		cmocka_unit_test(test_in_prefix),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}

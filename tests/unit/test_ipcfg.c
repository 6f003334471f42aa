/* SPDX-License-Identifier: MIT */
/* The kernel's ip= parameter: the forms PXE and static boots use, and errors naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "netctl/ipcfg.h"

static char err[256];

static const char *ip4(const unsigned char *a)
{
	static char b[4][INET_ADDRSTRLEN];
	static int k;

	k = (k + 1) % 4;
	return inet_ntop(AF_INET, a, b[k], sizeof(b[k]));
}

static void test_full_static(void **state)
{
	struct ipcfg c;

	(void)state;
	assert_int_equal(ipcfg_parse("10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:node1:eth0:off:10.0.2.3::10.0.2.4", &c,
				     err, sizeof(err)), 0);
	assert_int_equal(c.family, AF_INET);
	assert_string_equal(ip4(c.client), "10.0.2.15");
	assert_true(c.has_server && c.has_gateway);
	assert_string_equal(ip4(c.gateway), "10.0.2.2");
	assert_int_equal(c.prefixlen, 24);
	assert_string_equal(c.hostname, "node1");
	assert_string_equal(c.device, "eth0");
	assert_string_equal(c.autoconf, "off");
	assert_true(c.has_dns[0] && !c.has_dns[1] && c.has_ntp);
	assert_string_equal(ip4(c.dns[0]), "10.0.2.3");
	assert_string_equal(ip4(c.ntp), "10.0.2.4");
}

static void test_short_and_words(void **state)
{
	struct ipcfg c;

	(void)state;
	assert_int_equal(ipcfg_parse("dhcp", &c, err, sizeof(err)), 0);
	assert_int_equal(c.family, 0);
	assert_string_equal(c.autoconf, "dhcp");
	/* A client address with its prefix, nothing else: static, on any link. */
	assert_int_equal(ipcfg_parse("192.168.1.10/16", &c, err, sizeof(err)), 0);
	assert_int_equal(c.prefixlen, 16);
	assert_string_equal(c.autoconf, "off");
	assert_string_equal(c.device, "");
	/* Only the device and autoconf: DHCP on that link. */
	assert_int_equal(ipcfg_parse(":::::eth1:dhcp", &c, err, sizeof(err)), 0);
	assert_string_equal(c.device, "eth1");
	assert_string_equal(c.autoconf, "dhcp");
	assert_int_equal(c.family, 0);
	/* IPv6 in brackets, a prefix length as the netmask. */
	assert_int_equal(ipcfg_parse("[fd00::2]::[fd00::1]:64::eth0:off", &c, err, sizeof(err)), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefixlen, 64);
	assert_true(c.has_gateway && c.gateway[0] == 0xfd && c.gateway[15] == 1);
}

static void test_errors_name_the_field(void **state)
{
	struct ipcfg c;
	static const struct {
		const char *in, *want;
	} bad[] = {
		{ "10.0.0.300::::", "ip=: client \"10.0.0.300\": not an IPv4 address" },
		{ "10.0.0.2::10.0.0.1:255.0.255.0", "ip=: netmask \"255.0.255.0\": not a netmask" },
		{ "10.0.0.2::[fd00::1]", "ip=: gateway \"[fd00::1]\": not an address of the client's family" },
		{ "::::::static", "ip=: autoconf \"static\": expected off" },
		{ ":::::averyveryverylonglinkname", "ip=: device \"averyveryverylonglinkname\": not a link name" },
		{ "1:2:3:4:5:6:7:8:9:10:11", "more than 10 fields" },
		{ "[fd00::1", "an unclosed '['" },
		{ ":::255.255.255.0", "ip=: netmask \"255.255.255.0\": a netmask needs a client address" },
		{ "10.0.0.2/33", "ip=: prefix \"33\": not a prefix length" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ipcfg_parse(bad[i].in, &c, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("ip=%s: got \"%s\", wanted \"%s\"", bad[i].in, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_static),
		cmocka_unit_test(test_short_and_words),
		cmocka_unit_test(test_errors_name_the_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

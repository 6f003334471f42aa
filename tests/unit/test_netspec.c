/* SPDX-License-Identifier: MIT */
/*
 * How the network layers merge (machined/ctrl/netspec.c): the precedence table, and lists
 * (resolvers, time servers) taken from the strongest layer that names any.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "machined/ctrl/netspec.h"

static void test_rank_table(void **state)
{
	static const char *const weakest_first[] = { "default", "cmdline", "platform", "dhcp4", "configuration" };

	(void)state;
	for (size_t i = 1; i < sizeof(weakest_first) / sizeof(weakest_first[0]); i++)
		if (netspec_rank(weakest_first[i - 1]) >= netspec_rank(weakest_first[i]))
			fail_msg("%s is not weaker than %s", weakest_first[i - 1], weakest_first[i]);
	assert_int_equal(netspec_rank("dhcp4"), netspec_rank("dhcp6"));
	assert_int_equal(netspec_rank("nonsense"), -1);
	assert_int_equal(netspec_rank(NULL), -1);
}

static void test_list_strongest_layer(void **state)
{
	char *dhcp_a[] = { "10.0.0.53", "10.0.0.54" }, *dhcp_b[] = { "10.0.0.54", "10.1.0.53" };
	char *cmdline[] = { "192.168.0.1" }, *config[] = { "9.9.9.9" };
	struct netspec_list l;

	(void)state;
	netspec_list_init(&l);
	netspec_list_add(&l, "cmdline", cmdline, 1);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.layer, "cmdline");
	/* Two DHCP links: both leases' servers, in order, each once; the cmdline's are gone. */
	netspec_list_add(&l, "dhcp4", dhcp_a, 2);
	netspec_list_add(&l, "dhcp4", dhcp_b, 2);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "10.0.0.53");
	assert_string_equal(l.v[1], "10.0.0.54");
	assert_string_equal(l.v[2], "10.1.0.53");
	/* A weaker layer afterwards changes nothing; an empty stronger one neither. */
	netspec_list_add(&l, "default", cmdline, 1);
	netspec_list_add(&l, "configuration", config, 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.layer, "dhcp4");
	netspec_list_add(&l, "configuration", config, 1);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "9.9.9.9");
	assert_string_equal(l.layer, "configuration");
}

static void test_list_cap(void **state)
{
	char names[40][24], *v[40];
	struct netspec_list l;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "10.0.0.%d", i);
		v[i] = names[i];
	}
	netspec_list_init(&l);
	netspec_list_add(&l, "dhcp4", v, 40);
	assert_int_equal(l.n, NETSPEC_LIST_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank_table),
		cmocka_unit_test(test_list_strongest_layer),
		cmocka_unit_test(test_list_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

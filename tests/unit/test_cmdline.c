/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/cmdline.h"

struct reports {
	int n;
	char last[512];
};

static void collect(void *arg, const char *key, const char *value, const char *msg)
{
	struct reports *r = arg;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s=%s: %s", key, value ? value : "(none)", msg);
}

static void test_full_line(void **state)
{
	struct cmdline c;
	struct reports r = { 0 };

	(void)state;
	assert_int_equal(cmdline_parse("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet basalt.config=http://10.0.0.1:8080/c.yaml "
				       "basalt.platform=metal basalt.debug=1 basalt.maintenance=1 basalt.boot=disk ip=10.0.0.5::10.0.0.1:255.255.255.0:node1:eth0:off "
				       "basalt.install.source=http://10.0.0.1:8080/install/",
				       &c, collect, &r),
			 0);
	assert_int_equal(r.n, 0);
	assert_string_equal(c.config_url, "http://10.0.0.1:8080/c.yaml");
	assert_int_equal(c.platform, PLATFORM_METAL);
	assert_true(c.debug);
	assert_true(c.maintenance);
	assert_true(c.from_disk);
	assert_string_equal(c.ip, "10.0.0.5::10.0.0.1:255.255.255.0:node1:eth0:off");
	assert_string_equal(c.install_source, "http://10.0.0.1:8080/install/");
	cmdline_fini(&c);
	/* Only http://, with a host, a directory (ending in /). */
	memset(&r, 0, sizeof(r));
	assert_int_equal(cmdline_parse("basalt.install.source=https://a/ basalt.install.source=http://a/x", &c, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_null(c.install_source);
	cmdline_fini(&c);
}

static void test_defaults(void **state)
{
	struct cmdline c;

	(void)state;
	assert_int_equal(cmdline_parse("", &c, NULL, NULL), 0);
	assert_null(c.config_url);
	assert_int_equal(c.platform, PLATFORM_UNSET);
	assert_false(c.debug);
	assert_false(c.maintenance);
	assert_false(c.from_disk);
	assert_null(c.ip);
	assert_null(c.install_source);
	cmdline_fini(&c);
}

static void test_quoted_value(void **state)
{
	struct cmdline c;

	(void)state;
	assert_int_equal(cmdline_parse("a=1 basalt.config=\"https://h/path with space\" b", &c, NULL, NULL), 0);
	assert_string_equal(c.config_url, "https://h/path with space");
	cmdline_fini(&c);
}

static void test_malformed_values_reported(void **state)
{
	struct cmdline c;
	struct reports r = { 0 };

	(void)state;
	assert_int_equal(cmdline_parse("basalt.platform=vmware", &c, collect, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.last, "basalt.platform=vmware: unknown platform"));
	assert_int_equal(c.platform, PLATFORM_UNSET);
	cmdline_fini(&c);

	r.n = 0;
	assert_int_equal(cmdline_parse("basalt.debug=yes basalt.config=ftp://x/y ip= basalt.maintenance=on", &c, collect, &r), 0);
	assert_int_equal(r.n, 4);  /* every malformed key, not just the first */
	assert_false(c.maintenance);
	assert_non_null(strstr(r.last, "basalt.maintenance=on: expected 0 or 1"));
	assert_false(c.debug);
	assert_null(c.config_url);
	assert_null(c.ip);
	cmdline_fini(&c);

	r.n = 0;
	assert_int_equal(cmdline_parse("basalt.boot=usb", &c, collect, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.last, "basalt.boot=usb: expected disk or media"));
	assert_false(c.from_disk);
	cmdline_fini(&c);

	r.n = 0;
	assert_int_equal(cmdline_parse("basalt.config=http:///nohost", &c, collect, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.last, "not an http:// or https:// URL"));
	cmdline_fini(&c);
}

static void test_unknown_keys(void **state)
{
	struct cmdline c;
	struct reports r = { 0 };

	(void)state;
	assert_int_equal(cmdline_parse("foo=bar nosmp basalt.plaform=metal", &c, collect, &r), 0);
	assert_int_equal(r.n, 1);  /* only the basalt.* typo is worth a word */
	assert_non_null(strstr(r.last, "basalt.plaform=metal: unknown key, ignored"));
	assert_int_equal(c.platform, PLATFORM_UNSET);
	cmdline_fini(&c);
}

static void test_bare_debug_and_last_wins(void **state)
{
	struct cmdline c;

	(void)state;
	assert_int_equal(cmdline_parse("basalt.debug basalt.platform=aws basalt.platform=qemu", &c, NULL, NULL), 0);
	assert_true(c.debug);
	assert_int_equal(c.platform, PLATFORM_QEMU);
	assert_string_equal(platform_name(c.platform), "qemu");
	cmdline_fini(&c);
}

static void test_double_dash_ends(void **state)
{
	struct cmdline c;

	(void)state;
	assert_int_equal(cmdline_parse("quiet -- basalt.debug=1", &c, NULL, NULL), 0);
	assert_false(c.debug);
	cmdline_fini(&c);
}

static void test_huge_token(void **state)
{
	static char line[20000];
	struct cmdline c;

	(void)state;
	memcpy(line, "basalt.config=http://h/", 23);
	memset(line + 23, 'a', sizeof(line) - 24);
	assert_int_equal(cmdline_parse(line, &c, NULL, NULL), 0);
	assert_non_null(c.config_url);
	assert_true(strlen(c.config_url) < 4096);
	cmdline_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_line),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_quoted_value),
		cmocka_unit_test(test_malformed_values_reported),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_bare_debug_and_last_wins),
		cmocka_unit_test(test_double_dash_ends),
		cmocka_unit_test(test_huge_token),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}

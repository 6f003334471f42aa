/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "machined/platform/cloudinit.h"

static int meta(const char *text, struct platform_metadata *md, char *err)
{
	memset(md, 0, sizeof(*md));
	return cloudinit_meta_parse(text, strlen(text), md, err, 512);
}

static void test_meta(void **state)
{
	struct platform_metadata md;
	char err[512];

	(void)state;
	assert_int_equal(meta("instance-id: iid-local01\nlocal-hostname: cloudimg\nother: [1, 2]\n", &md, err), 0);
	assert_string_equal(md.instance_id, "iid-local01");
	assert_string_equal(md.hostname, "cloudimg");
	/* JSON, and hostname when there is no local-hostname. */
	assert_int_equal(meta("{\"instance-id\": \"i-1\", \"hostname\": \"web.example.com\"}", &md, err), 0);
	assert_string_equal(md.hostname, "web.example.com");
	/* local-hostname wins, wherever it is. */
	assert_int_equal(meta("hostname: b\nlocal-hostname: a\n", &md, err), 0);
	assert_string_equal(md.hostname, "a");
	/* Empty is allowed: nothing known. */
	assert_int_equal(meta("", &md, err), 0);
	assert_string_equal(md.hostname, "");

	assert_int_equal(meta("local-hostname: \"bad name\"\n", &md, err), -1);
	assert_non_null(strstr(err, "is not a host name"));
	assert_string_equal(md.hostname, "");
	assert_int_equal(meta("- a\n- b\n", &md, err), -1);
	assert_non_null(strstr(err, "not a mapping"));
	assert_int_equal(meta("a: [\n", &md, err), -1);
	assert_non_null(strstr(err, "meta-data"));
	/* A value that is not a scalar is not taken. */
	assert_int_equal(meta("local-hostname: [a]\ninstance-id: x\n", &md, err), 0);
	assert_string_equal(md.hostname, "");
	assert_string_equal(md.instance_id, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

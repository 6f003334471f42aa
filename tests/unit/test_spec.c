/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "init/spec.h"

/* Builds a spec from a protobuf description, asserting it converts. */
static void mk(struct spec *s, const char *id, const char *dep1, const char *dep2)
{
	Basalt__Init__ServiceSpec pb = BASALT__INIT__SERVICE_SPEC__INIT;
	char *argv[] = { "/bin/true" };
	char *deps[] = { (char *)dep1, (char *)dep2 };
	char err[256];

	pb.id = (char *)id;
	pb.argv = argv;
	pb.n_argv = 1;
	pb.depends = deps;
	pb.n_depends = dep2 ? 2 : dep1 ? 1 : 0;
	assert_int_equal(spec_from_pb(s, &pb, err, sizeof(err)), 0);
}

static void free_all(struct spec *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spec_fini(&s[i]);
}

static void test_defaults_filled(void **state)
{
	struct spec s;

	(void)state;
	mk(&s, "svc", NULL, NULL);
	assert_int_equal(s.stop_timeout_ms, 10000);
	assert_int_equal(s.backoff_base_ms, 100);
	assert_int_equal(s.backoff_max_ms, 30000);
	assert_int_equal(s.log_ring_bytes, 65536);
	assert_string_equal(s.cwd, "/");
	assert_string_equal(s.env[0], SPEC_DEFAULT_PATH);
	assert_null(s.env[1]);
	spec_fini(&s);
}

static void expect_pb_error(Basalt__Init__ServiceSpec *pb, const char *needle)
{
	struct spec s;
	char err[256] = "";

	assert_int_equal(spec_from_pb(&s, pb, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_bad_specs(void **state)
{
	Basalt__Init__ServiceSpec pb = BASALT__INIT__SERVICE_SPEC__INIT;
	char *argv[] = { "bin/relative" }, *ok_argv[] = { "/bin/x" };
	char *env[] = { "NOEQUALS" };

	(void)state;
	pb.id = "Bad_Id";
	pb.argv = ok_argv;
	pb.n_argv = 1;
	expect_pb_error(&pb, "must match [a-z0-9]");
	pb.id = "";
	expect_pb_error(&pb, "must match");
	pb.id = "good";
	pb.argv = argv;
	expect_pb_error(&pb, "argv[0] must be an absolute path");
	pb.n_argv = 0;
	expect_pb_error(&pb, "argv[0] must be an absolute path");
	pb.argv = ok_argv;
	pb.n_argv = 1;
	pb.env = env;
	pb.n_env = 1;
	expect_pb_error(&pb, "env[0] \"NOEQUALS\" is not KEY=value");
	pb.n_env = 0;
	pb.cwd = "relative";
	expect_pb_error(&pb, "cwd \"relative\" is not an absolute path");
	pb.cwd = "";
	pb.log_ring_bytes = SPEC_RING_MAX + 1;
	expect_pb_error(&pb, "logRingBytes");
}

static void test_set_validation(void **state)
{
	struct spec s[4];
	char err[256];

	(void)state;
	mk(&s[0], "machined", NULL, NULL);
	mk(&s[1], "containerd", NULL, NULL);
	mk(&s[2], "kubelet", "containerd", NULL);
	assert_int_equal(spec_validate_set(s, 3, "machined", err, sizeof(err)), 0);
	assert_int_equal(spec_validate_set(s + 1, 2, "machined", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the set must include machined (init's core service)");
	assert_int_equal(spec_validate_set(s + 2, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "service kubelet depends on unknown service \"containerd\"");
	free_all(s, 3);

	mk(&s[0], "a", "b", NULL);
	mk(&s[1], "b", "c", NULL);
	mk(&s[2], "c", "a", NULL);
	mk(&s[3], "a", NULL, NULL);
	assert_int_equal(spec_validate_set(s, 3, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dependency cycle through service"));
	assert_int_equal(spec_validate_set(s, 4, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "service a appears twice");
	free_all(s, 4);
}

static void test_equality(void **state)
{
	struct spec a, b, c;

	(void)state;
	mk(&a, "x", "y", NULL);
	mk(&b, "x", "y", NULL);
	mk(&c, "x", "z", NULL);
	assert_true(spec_equal(&a, &b));
	assert_false(spec_equal(&a, &c));
	b.stop_timeout_ms++;
	assert_false(spec_equal(&a, &b));
	assert_true(spec_depends_on(&a, "y"));
	assert_false(spec_depends_on(&a, "z"));
	spec_fini(&a);
	spec_fini(&b);
	spec_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_set_validation),
		cmocka_unit_test(test_equality),
	};

	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}

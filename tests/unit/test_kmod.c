/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "init/kmod.h"

static const char dep_text[] =
	"kernel/a/alpha.ko: kernel/b/beta.ko kernel/c/gamma-x.ko\n"
	"kernel/b/beta.ko: kernel/c/gamma-x.ko\n"
	"kernel/c/gamma-x.ko:\n"
	"kernel/fs/overlayfs/overlay.ko:\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/c/gamma-x.ko\n";

static const char alias_text[] =
	"# Aliases extracted from modules themselves.\n"
	"alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_blk\n"
	"alias fs-overlay overlay\n"
	"alias net-pf-16-proto-16-family-wireguard wireguard\n";

struct calls {
	char order[16][64];
	int n;
	const char *fail;  /* path substring whose load fails */
	int fail_err;
	const char *exists;  /* path substring that reports -EEXIST */
};

static int fake_loader(void *arg, const char *path)
{
	struct calls *c = arg;
	const char *base = strrchr(path, '/');

	snprintf(c->order[c->n++], sizeof(c->order[0]), "%s", base ? base + 1 : path);
	if (c->fail && strstr(path, c->fail))
		return c->fail_err;
	if (c->exists && strstr(path, c->exists))
		return -EEXIST;
	return 0;
}

static void load_db(struct kmod_db *db, struct calls *c)
{
	char err[256];

	kmod_db_init(db);
	db->dir = strdup("/lib/modules/test");
	assert_int_equal(kmod_db_parse_dep(db, dep_text, err, sizeof(err)), 0);
	assert_int_equal(kmod_db_parse_alias(db, alias_text, err, sizeof(err)), 0);
	assert_int_equal(kmod_db_parse_builtin(db, "kernel/fs/ext4/ext4.ko\n", err, sizeof(err)), 0);
	db->loader = fake_loader;
	db->loader_arg = c;
}

static void test_parse_dep(void **state)
{
	struct kmod_db db;
	struct calls c = { 0 };
	struct kmod_mod *m;

	(void)state;
	load_db(&db, &c);
	assert_int_equal(db.nmods, 5);
	m = kmod_find(&db, "gamma-x");  /* '-' and '_' are the same in module names */
	assert_non_null(m);
	assert_string_equal(m->name, "gamma_x");
	m = kmod_find(&db, "alpha");
	assert_int_equal(m->ndeps, 2);
	assert_string_equal(db.mods[m->deps[0]].name, "beta");
	kmod_db_fini(&db);
}

static void test_load_order_deps_first_once(void **state)
{
	struct kmod_db db;
	struct calls c = { 0 };
	char err[256];

	(void)state;
	load_db(&db, &c);
	assert_int_equal(kmod_load(&db, "alpha", err, sizeof(err)), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.order[0], "gamma-x.ko");
	assert_string_equal(c.order[1], "beta.ko");
	assert_string_equal(c.order[2], "alpha.ko");
	assert_int_equal(kmod_load(&db, "alpha", err, sizeof(err)), 0);
	assert_int_equal(kmod_load(&db, "virtio_blk", err, sizeof(err)), 0);
	assert_int_equal(c.n, 4);  /* gamma-x is not loaded a second time */
	kmod_db_fini(&db);
}

static void test_failure_propagates(void **state)
{
	struct kmod_db db;
	struct calls c = { .fail = "beta", .fail_err = -ENOEXEC };
	char err[256];

	(void)state;
	load_db(&db, &c);
	assert_int_equal(kmod_load(&db, "alpha", err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "load module beta"));
	assert_int_equal(kmod_find(&db, "gamma_x")->state, KMOD_LOADED);
	assert_int_equal(kmod_find(&db, "alpha")->state, KMOD_UNLOADED);
	kmod_db_fini(&db);
}

static void test_already_loaded(void **state)
{
	struct kmod_db db;
	struct calls c = { .exists = "overlay" };
	char err[256];

	(void)state;
	load_db(&db, &c);
	assert_int_equal(kmod_load(&db, "overlay", err, sizeof(err)), 0);
	assert_true(kmod_find(&db, "overlay")->preloaded);
	kmod_db_fini(&db);
}

static void test_cycle_detected(void **state)
{
	struct kmod_db db;
	struct calls c = { 0 };
	char err[256];

	(void)state;
	kmod_db_init(&db);
	db.loader = fake_loader;
	db.loader_arg = &c;
	assert_int_equal(kmod_db_parse_dep(&db, "x.ko: y.ko\ny.ko: x.ko\n", err, sizeof(err)), 0);
	assert_int_equal(kmod_load(&db, "x", err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "dependency cycle"));
	assert_int_equal(c.n, 0);
	kmod_db_fini(&db);
}

static void test_unknown_and_builtin(void **state)
{
	struct kmod_db db;
	struct calls c = { 0 };
	char err[256];

	(void)state;
	load_db(&db, &c);
	assert_int_equal(kmod_load(&db, "nosuch", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "module nosuch not found"));
	assert_int_equal(kmod_load(&db, "ext4", err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);  /* builtin: nothing to load */
	kmod_db_fini(&db);
}

static int count_match(void *arg, const char *module)
{
	char *out = arg;

	strcat(out, module);
	strcat(out, ";");
	return 0;
}

static void test_alias_matching_and_probe(void **state)
{
	struct kmod_db db;
	struct calls c = { 0 };
	char got[256] = "", err[256];

	(void)state;
	load_db(&db, &c);
	assert_int_equal(kmod_match_alias(&db, "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
					  count_match, got), 1);
	assert_string_equal(got, "virtio_blk;");
	assert_int_equal(kmod_match_alias(&db, "pci:v00008086d00001001sv0sd0bc0sc0i0", count_match, got), 0);
	assert_int_equal(kmod_probe(&db, "fs-overlay", err, sizeof(err)), 0);
	assert_string_equal(c.order[c.n - 1], "overlay.ko");
	/* An alias whose module is not in modules.dep is an error, not a crash. */
	assert_int_equal(kmod_probe(&db, "net-pf-16-proto-16-family-wireguard", err, sizeof(err)), -ENOENT);
	assert_int_equal(kmod_probe(&db, "nothing-like-this", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no module or alias named nothing-like-this"));
	kmod_db_fini(&db);
}

static void test_malformed_indexes(void **state)
{
	struct kmod_db db;
	char err[256];

	(void)state;
	kmod_db_init(&db);
	assert_int_equal(kmod_db_parse_dep(&db, "a.ko:\nthis line has no colon\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "modules.dep:2: expected \"path.ko: deps...\"");
	kmod_db_fini(&db);
	kmod_db_init(&db);
	assert_int_equal(kmod_db_parse_dep(&db, "notamodule.txt:\n", err, sizeof(err)), -EINVAL);
	kmod_db_fini(&db);
	kmod_db_init(&db);
	assert_int_equal(kmod_db_parse_alias(&db, "alias a b\nalias onlyone\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "modules.alias:2: expected \"alias <pattern> <module>\"");
	kmod_db_fini(&db);
}

static void test_normalize(void **state)
{
	char out[64];

	(void)state;
	kmod_normalize("a-b[c-d]-e", out, sizeof(out));
	assert_string_equal(out, "a_b[c-d]_e");
	kmod_normalize("long-name", out, 5);
	assert_string_equal(out, "long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dep),
		cmocka_unit_test(test_load_order_deps_first_once),
		cmocka_unit_test(test_failure_propagates),
		cmocka_unit_test(test_already_loaded),
		cmocka_unit_test(test_cycle_detected),
		cmocka_unit_test(test_unknown_and_builtin),
		cmocka_unit_test(test_alias_matching_and_probe),
		cmocka_unit_test(test_malformed_indexes),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests_name("kmod", tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Coldplug over a fake sysfs: bus device links, modalias matching, a second pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/coldplug.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], cmd[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void device(const char *bus, const char *name, const char *alias)
{
	char rel[200], link[256], target[300];

	snprintf(rel, sizeof(rel), "devices/%s/%s/modalias", bus, name);
	put(rel, alias);
	snprintf(link, sizeof(link), "%s/bus/%s/devices", root, bus);
	snprintf(target, sizeof(target), "mkdir -p %s", link);
	assert_int_equal(system(target), 0);
	snprintf(link, sizeof(link), "%s/bus/%s/devices/%s", root, bus, name);
	snprintf(target, sizeof(target), "../../../devices/%s/%s", bus, name);
	assert_int_equal(symlink(target, link), 0);
}

struct loads {
	char names[8][32];
	int n;
};

/* Loading "ctrl" makes a disk appear on a new bus, as a real controller driver would. */
static int loader(void *arg, const char *path)
{
	struct loads *l = arg;
	const char *base = strrchr(path, '/') + 1;

	snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", base);
	if (strcmp(base, "ctrl.ko") == 0)
		device("virtio", "virtio0", "virtio:d00000002v00001AF4\n");
	return 0;
}

static void test_two_passes(void **state)
{
	struct kmod_db db;
	struct coldplug_stats st;
	struct loads l = { 0 };
	char err[256], cmd[96];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/basalt-sysfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	device("pci", "0000:00:01.0", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\n");
	device("pci", "0000:00:02.0", "pci:v00008086d00002922sv0sd0bc01sc06i01\n");  /* no driver */
	put("bus/acpi/devices/.hidden", "");
	kmod_db_init(&db);
	db.dir = strdup("/lib/modules/x");
	db.loader = loader;
	db.loader_arg = &l;
	assert_int_equal(kmod_db_parse_dep(&db, "kernel/ctrl.ko:\nkernel/vblk.ko:\n", err, sizeof(err)), 0);
	assert_int_equal(kmod_db_parse_alias(&db,
					     "alias pci:v00001AF4d00001001sv*sd*bc*sc*i* ctrl\n"
					     "alias virtio:d00000002v* vblk\n",
					     err, sizeof(err)),
			 0);
	assert_int_equal(coldplug_run(&db, root, &st), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.names[0], "ctrl.ko");
	assert_string_equal(l.names[1], "vblk.ko");
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.passes, 3);  /* the last pass finds nothing new */
	kmod_db_fini(&db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_passes),
	};

	return cmocka_run_group_tests_name("coldplug", tests, NULL, NULL);
}

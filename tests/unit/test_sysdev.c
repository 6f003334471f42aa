/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

#include "netctl/sysdev.h"

static char root[64];

static void mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void ln(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* A fake sysfs: a virtio NIC on PCI 0000:00:03.0 and a PCI NIC 0000:06:00.0, as the kernel lays them out. */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/sysdev.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("devices/pci0000:00/0000:00:03.0/virtio0");
	put("devices/pci0000:00/0000:00:03.0/vendor", "0x1af4\n");
	put("devices/pci0000:00/0000:00:03.0/device", "0x1000\n");
	put("devices/pci0000:00/0000:00:03.0/virtio0/vendor", "0x1af4\n");   /* the virtio IDs: not PCI's */
	put("devices/pci0000:00/0000:00:03.0/virtio0/device", "0x0001\n");
	mk("devices/pci0000:00/0000:06:00.0");
	put("devices/pci0000:00/0000:06:00.0/vendor", "0x1969\n");
	put("devices/pci0000:00/0000:06:00.0/device", "0xe0b1\n");
	mk("bus/virtio/devices");
	mk("bus/virtio/drivers/virtio_net");
	mk("bus/pci/devices");
	mk("bus/pci/drivers/alx");
	ln("../../../devices/pci0000:00/0000:00:03.0/virtio0", "bus/virtio/devices/virtio0");
	ln("../../../../bus/virtio/drivers/virtio_net", "devices/pci0000:00/0000:00:03.0/virtio0/driver");
	ln("../../../devices/pci0000:00/0000:06:00.0", "bus/pci/devices/0000:06:00.0");
	ln("../../../bus/pci/drivers/alx", "devices/pci0000:00/0000:06:00.0/driver");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_virtio_on_pci(void **state)
{
	struct sysdev d;

	(void)state;
	assert_int_equal(sysdev_read(root, "virtio", "virtio0", &d), 0);
	assert_string_equal(d.driver, "virtio_net");
	assert_string_equal(d.pci_id, "1AF4:1000");   /* the PCI device's, above the virtio one */
}

static void test_pci_nic(void **state)
{
	struct sysdev d;

	(void)state;
	assert_int_equal(sysdev_read(root, "pci", "0000:06:00.0", &d), 0);
	assert_string_equal(d.driver, "alx");
	assert_string_equal(d.pci_id, "1969:E0B1");
}

static void test_missing_and_bad_names(void **state)
{
	struct sysdev d;

	(void)state;
	assert_int_equal(sysdev_read(root, "pci", "0000:07:00.0", &d), 0);
	assert_string_equal(d.driver, "");
	assert_string_equal(d.pci_id, "");
	assert_int_equal(sysdev_read(root, "pci", "../../etc", &d), -EINVAL);
	assert_int_equal(sysdev_read(root, "..", "virtio0", &d), -EINVAL);
	assert_int_equal(sysdev_read(root, "", "virtio0", &d), -EINVAL);
	assert_int_equal(sysdev_read(root, "pci", "", &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtio_on_pci),
		cmocka_unit_test(test_pci_nic),
		cmocka_unit_test(test_missing_and_bad_names),
	};

	return cmocka_run_group_tests_name("sysdev", tests, setup, teardown);
}

/* SPDX-License-Identifier: MIT */
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

#include "machined/disk/blockdev.h"
#include "machined/disk/install.h"
#include "machined/disk/select.h"

static uint8_t buf[BLK_PROBE_BYTES];

static void test_probe(void **state)
{
	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_null(blk_fs_probe(buf, sizeof(buf)));
	buf[40000] = 1;
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "data");
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "XFSB", 4);
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "xfs");
	memset(buf, 0, sizeof(buf));
	buf[1080] = 0x53, buf[1081] = 0xef;
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "ext4");
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 32769, "CD001", 5);
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "iso9660");
	memset(buf, 0, sizeof(buf));
	buf[510] = 0x55, buf[511] = 0xaa;
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "mbr");
	memcpy(buf + 0x52, "FAT32   ", 8);
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "vfat");
	memcpy(buf + 512, "EFI PART", 8);
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "gpt");
	memcpy(buf, "hsqs", 4);
	assert_string_equal(blk_fs_probe(buf, sizeof(buf)), "squashfs");
	/* A short read looks only at what it has. */
	assert_string_equal(blk_fs_probe((const uint8_t *)"\0\0\1", 3), "data");
	assert_null(blk_fs_probe(buf, 0));
}

static void test_uevent(void **state)
{
	const char *t = "MAJOR=254\nDEVNAME=vda5\nDEVTYPE=partition\nPARTN=5\nPARTNAME=STATE";
	char v[8];

	(void)state;
	assert_int_equal(blk_uevent_get(t, strlen(t), "PARTNAME", v, sizeof(v)), 0);
	assert_string_equal(v, "STATE");
	assert_int_equal(blk_uevent_get(t, strlen(t), "PARTN", v, sizeof(v)), 0);
	assert_string_equal(v, "5");
	assert_int_equal(blk_uevent_get(t, strlen(t), "DEVTYPE", v, sizeof(v)), -1); /* "partition" is too long for v */
	assert_int_equal(blk_uevent_get(t, strlen(t), "PART", v, sizeof(v)), -1);
	assert_int_equal(blk_uevent_get(t, 20, "PARTNAME", v, sizeof(v)), -1);       /* beyond len */
}

static char root[64];

static void mkpart(const char *disk, const char *part, unsigned n, const char *label)
{
	char path[200], target[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices/virtual/block/%s/%s", root, disk, part);
	assert_int_equal(system((snprintf(target, sizeof(target), "mkdir -p %s", path), target)), 0);
	snprintf(target, sizeof(target), "%s/uevent", path);
	assert_non_null(f = fopen(target, "w"));
	fprintf(f, "MAJOR=254\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%u\nPARTNAME=%s\n", n, part, n, label);
	fclose(f);
	snprintf(path, sizeof(path), "%s/class/block/%s", root, part);
	snprintf(target, sizeof(target), "../../devices/virtual/block/%s/%s", disk, part);
	assert_int_equal(symlink(target, path), 0);
}

/* A sysfs tree of the test's own: partitions found by GPT name, with their disk; two of
 * one name are refused, naming both. */
static void test_find(void **state)
{
	struct blk_part p;
	char err[256], cmd[128];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_blkprobe.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/class/block", root);
	assert_int_equal(system(cmd), 0);
	mkpart("vda", "vda5", 5, "STATE");
	mkpart("vda", "vda6", 6, "EPHEMERAL");
	assert_int_equal(blk_find_part(root, "STATE", &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "vda5");
	assert_string_equal(p.disk, "vda");
	assert_int_equal(p.partno, 5);
	assert_int_equal(blk_find_part(root, "META", &p, err, sizeof(err)), 1);
	mkpart("vdb", "vdb5", 5, "STATE");
	assert_int_equal(blk_find_part(root, "STATE", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "two partitions are named STATE"));
	assert_non_null(strstr(err, "vda5 on vda"));
	assert_non_null(strstr(err, "vdb5 on vdb"));
	assert_int_equal(blk_find_part("/nonexistent", "STATE", &p, err, sizeof(err)), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

/* A mkfs that fails: its last line of output is the error. */
static void test_mkfs(void **state)
{
	char err[256];
	char *ok[] = { "/bin/sh", "-c", "echo fine", NULL };
	char *bad[] = { "/bin/sh", "-c", "echo meta-data=...; echo 'mkfs.xfs: /dev/vda5 appears to contain a partition table' >&2; exit 1", NULL };
	char *none[] = { "/nonexistent/mkfs.xfs", NULL };

	(void)state;
	assert_int_equal(blk_mkfs(ok, err, sizeof(err)), 0);
	assert_int_equal(blk_mkfs(bad, err, sizeof(err)), -1);
	assert_string_equal(err, "/bin/sh failed: mkfs.xfs: /dev/vda5 appears to contain a partition table");
	assert_int_equal(blk_mkfs(none, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/mkfs.xfs"));
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Whole disks from a sysfs tree of the test's own: what they are, and which a selector picks. */
static void test_disks(void **state)
{
	struct blk_disk d[BLK_MAX_DISKS];
	char err[512], cmd[2048], p[400];
	const char *dev = "devices/pci0000:00/0000:00:04.0/virtio1/block/vda";

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_blkdisks.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/class/block %s/%s/queue %s/%s/vda1 %s/devices/pci0000:00/0000:00:04.0/virtio1/device0 "
		 "%s/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/queue "
		 "%s/devices/virtual/block/loop0",
		 root, root, dev, root, dev, root, root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/%s/size", root, dev), put(p, "4194304\n");
	snprintf(p, sizeof(p), "%s/%s/ro", root, dev), put(p, "0\n");
	snprintf(p, sizeof(p), "%s/%s/serial", root, dev), put(p, "BASALT-0001\n");
	snprintf(p, sizeof(p), "%s/%s/queue/rotational", root, dev), put(p, "1\n");
	snprintf(p, sizeof(p), "%s/%s/vda1/partition", root, dev), put(p, "1\n");
	snprintf(cmd, sizeof(cmd), "ln -s %s/devices/pci0000:00/0000:00:04.0/virtio1/device0 %s/%s/device", root, root, dev);
	assert_int_equal(system(cmd), 0);
	const char *sda = "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
	snprintf(p, sizeof(p), "%s/%s/size", root, sda), put(p, "1953525168\n");
	snprintf(p, sizeof(p), "%s/%s/queue/rotational", root, sda), put(p, "0\n");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s/device && echo 'Samsung SSD 870 ' >%s/%s/device/model", root, sda, root, sda);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "cd %s/class/block && ln -s ../../%s vda && ln -s ../../%s/vda1 vda1 && ln -s ../../%s sda && "
		 "ln -s ../../devices/virtual/block/loop0 loop0",
		 root, dev, dev, sda);
	assert_int_equal(system(cmd), 0);

	int n = blk_list_disks(root, d, BLK_MAX_DISKS, err, sizeof(err));
	assert_int_equal(n, 2); /* no partition, no loop device */
	assert_string_equal(d[0].name, "sda");
	assert_int_equal(d[0].size, 1953525168ull * 512);
	assert_string_equal(d[0].model, "Samsung SSD 870");
	assert_string_equal(d[0].transport, "sata");
	assert_string_equal(d[0].type, "ssd");
	assert_string_equal(d[1].name, "vda");
	assert_string_equal(d[1].serial, "BASALT-0001");
	assert_string_equal(d[1].transport, "virtio");
	assert_string_equal(d[1].type, "hdd");
	assert_string_equal(d[1].bus_path, "/pci0000:00/0000:00:04.0/virtio1");

	struct disk_selector s = { .size = "<= 10GB" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), 1);
	s = (struct disk_selector){ .size = "1TB" }; /* within 1% of 1,000,204,886,016 bytes */
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), 0);
	s = (struct disk_selector){ .model = "Samsung*", .type = "ssd" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), 0);
	s = (struct disk_selector){ .name = "/dev/vda" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), 1);
	s = (struct disk_selector){ .bus_path = "/pci0000:00/*/virtio*" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), 1);
	s = (struct disk_selector){ .type = "nvme" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "no disk matches the selector: sda: type ssd is not nvme; vda: type hdd is not nvme");
	s = (struct disk_selector){ .size = ">= lots" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size \">= lots\" is not a size"));
	d[1].readonly = 1;
	s = (struct disk_selector){ .serial = "BASALT-*" };
	assert_int_equal(disk_select(d, 2, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vda: read-only"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_part_name(void **state)
{
	char n[32];

	(void)state;
	disk_part_name("vda", 3, n, sizeof(n));
	assert_string_equal(n, "vda3");
	disk_part_name("nvme0n1", 6, n, sizeof(n));
	assert_string_equal(n, "nvme0n1p6");
	disk_part_name("mmcblk0", 1, n, sizeof(n));
	assert_string_equal(n, "mmcblk0p1");
}

/* Labels: an iso9660 volume id, FAT16's and FAT32's volume labels, FAT's "NO NAME". */
static void test_label(void **state)
{
	static uint8_t lb[34 * 1024];
	char l[40];

	(void)state;
	memset(lb, 0, sizeof(lb));
	memcpy(lb + 32769, "CD001", 5);
	memset(lb + 32768 + 40, ' ', 32);
	memcpy(lb + 32768 + 40, "cidata", 6);
	assert_string_equal(blk_fs_probe(lb, sizeof(lb)), "iso9660");
	blk_fs_label(lb, sizeof(lb), "iso9660", l, sizeof(l));
	assert_string_equal(l, "cidata");
	memset(lb, 0, sizeof(lb));
	lb[510] = 0x55, lb[511] = 0xaa;
	memcpy(lb + 0x36, "FAT16   ", 8);
	memcpy(lb + 0x2b, "CIDATA     ", 11);
	assert_string_equal(blk_fs_probe(lb, sizeof(lb)), "vfat");
	blk_fs_label(lb, sizeof(lb), "vfat", l, sizeof(l));
	assert_string_equal(l, "CIDATA");
	memcpy(lb + 0x2b, "NO NAME    ", 11);
	blk_fs_label(lb, sizeof(lb), "vfat", l, sizeof(l));
	assert_string_equal(l, "");
	memset(lb + 0x36, 0, 8);
	memcpy(lb + 0x52, "FAT32   ", 8);
	memcpy(lb + 0x47, "config-2\x01  ", 11);
	blk_fs_label(lb, sizeof(lb), "vfat", l, sizeof(l));
	assert_string_equal(l, "config-2?");
	blk_fs_label(lb, 10, "vfat", l, sizeof(l));
	assert_string_equal(l, "");
	blk_fs_label(lb, sizeof(lb), "xfs", l, sizeof(l));
	assert_string_equal(l, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe), cmocka_unit_test(test_uevent), cmocka_unit_test(test_find), cmocka_unit_test(test_label),
		cmocka_unit_test(test_mkfs), cmocka_unit_test(test_disks), cmocka_unit_test(test_part_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

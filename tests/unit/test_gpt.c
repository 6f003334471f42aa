/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/gpt.h"

#define MIB (2048u) /* sectors */

static void guids(uint8_t g[GPT_P_COUNT + 1][16])
{
	for (int i = 0; i <= GPT_P_COUNT; i++)
		for (int k = 0; k < 16; k++)
			g[i][k] = (uint8_t)(i * 16 + k + 1);
}

/* A whole disk image in memory: the head at 0, the tail at the end. */
static uint8_t *disk_of(const struct gpt *g)
{
	uint8_t *d = calloc(g->sectors, GPT_SECTOR);
	char err[160];

	assert_non_null(d);
	assert_int_equal(gpt_encode(g, NULL, d, d + (g->sectors - GPT_TAIL_SECTORS) * GPT_SECTOR, err, sizeof(err)), 0);
	return d;
}

static void test_guid(void **state)
{
	uint8_t b[16];
	char s[37];

	(void)state;
	assert_int_equal(gpt_guid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", b), 0);
	assert_memory_equal(b, GPT_TYPE_EFI, 16);
	gpt_guid_format(GPT_TYPE_LINUX, s);
	assert_string_equal(s, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
	assert_int_equal(gpt_guid_parse("0fc63daf-8483-4772-8e79-3d69d8477de4", b), 0);
	assert_memory_equal(b, GPT_TYPE_LINUX, 16);
	assert_int_equal(gpt_guid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DE", b), -1);
	assert_int_equal(gpt_guid_parse("0FC63DAF84834772-8E79-3D69D8477DE4xx", b), -1);
	assert_int_equal(gpt_guid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DG4", b), -1);
}

/* The Basalt layout: MiB-aligned, in order, EPHEMERAL to the last whole MiB. */
static void test_layout(void **state)
{
	uint8_t ids[GPT_P_COUNT + 1][16];
	struct gpt g;
	char err[160];
	const uint64_t sectors = 1024ull * MIB;

	(void)state;
	guids(ids);
	assert_int_equal(gpt_basalt_layout(sectors, ids, &g, err, sizeof(err)), 0);
	assert_int_equal(g.n, GPT_P_COUNT);
	assert_int_equal(g.part[0].first, MIB);
	for (unsigned i = 0; i < g.n; i++) {
		assert_string_equal(g.part[i].name, gpt_basalt_names[i]);
		assert_int_equal(g.part[i].first % MIB, 0);
		assert_int_equal((g.part[i].last + 1) % MIB, 0);
		if (i)
			assert_int_equal(g.part[i].first, g.part[i - 1].last + 1);
	}
	assert_int_equal(g.part[GPT_P_EFI].last - g.part[GPT_P_EFI].first + 1, 100 * MIB);
	assert_int_equal(g.part[GPT_P_BOOT].last - g.part[GPT_P_BOOT].first + 1, 400 * MIB);
	assert_int_equal(g.part[GPT_P_BIOS].attrs, 1);
	assert_memory_equal(g.part[GPT_P_BIOS].type, GPT_TYPE_BIOS, 16);
	/* 1 MiB head, 602 MiB fixed, EPHEMERAL up to the MiB the tail starts in. */
	assert_int_equal(g.part[GPT_P_EPHEMERAL].last, 1023ull * MIB - 1);
	assert_true(g.part[GPT_P_EPHEMERAL].last <= g.last_usable);
	/* Too small: the error says how much it needs. */
	assert_int_equal(gpt_basalt_layout(800ull * MIB, ids, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs at least 904 MiB"));
}

static void test_roundtrip(void **state)
{
	uint8_t ids[GPT_P_COUNT + 1][16];
	struct gpt g, d;
	char err[160];
	const uint64_t sectors = 1024ull * MIB;

	(void)state;
	guids(ids);
	assert_int_equal(gpt_basalt_layout(sectors, ids, &g, err, sizeof(err)), 0);
	uint8_t *disk = disk_of(&g);
	/* The protective MBR. */
	assert_int_equal(disk[510], 0x55);
	assert_int_equal(disk[511], 0xaa);
	assert_int_equal(disk[0x1be + 4], 0xee);
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, sectors, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, g.n);
	assert_memory_equal(d.disk_guid, ids[0], 16);
	for (unsigned i = 0; i < d.n; i++) {
		assert_string_equal(d.part[i].name, g.part[i].name);
		assert_int_equal(d.part[i].first, g.part[i].first);
		assert_int_equal(d.part[i].last, g.part[i].last);
		assert_int_equal(d.part[i].index, i + 1);
		assert_memory_equal(d.part[i].uuid, ids[i + 1], 16);
	}
	assert_ptr_equal(gpt_find(&d, "STATE"), &d.part[GPT_P_STATE]);
	assert_null(gpt_find(&d, "STAT"));
	/* The backup header at the last LBA points back at LBA 1, and its entries match. */
	uint8_t *bh = disk + (sectors - 1) * GPT_SECTOR;
	assert_memory_equal(bh, "EFI PART", 8);
	assert_int_equal(bh[32], 1);
	assert_memory_equal(disk + (sectors - 33) * GPT_SECTOR, disk + 2 * GPT_SECTOR, 16384);

	/* Not a GPT: 1. Damage: -1 with what is wrong. */
	uint8_t blank[2 * GPT_SECTOR] = {0};
	assert_int_equal(gpt_decode(blank, sizeof(blank), sectors, &d, err, sizeof(err)), 1);
	disk[2 * GPT_SECTOR + 200] ^= 1;
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, sectors, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entries checksum"));
	disk[2 * GPT_SECTOR + 200] ^= 1;
	disk[GPT_SECTOR + 40] ^= 1;
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, sectors, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header checksum"));
	disk[GPT_SECTOR + 40] ^= 1;
	/* Entries beyond what was read. */
	assert_int_equal(gpt_decode(disk, 4 * GPT_SECTOR, sectors, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "beyond"));
	/* A disk smaller than the table says. */
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, sectors / 2, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "backup header at LBA 2097151 is outside a disk of 1048576 sectors"));
	/* A disk grown since: the table says what it was written for, and grows. */
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, 2 * sectors, &d, err, sizeof(err)), 0);
	assert_int_equal(d.sectors, sectors);
	assert_int_equal(gpt_grow_last(&d, 2 * sectors), 0);
	assert_int_equal(d.part[GPT_P_EPHEMERAL].last, 2047ull * MIB - 1);
	free(disk);
}

static void test_encode_refuses(void **state)
{
	uint8_t ids[GPT_P_COUNT + 1][16];
	uint8_t *head = malloc(GPT_HEAD_SECTORS * GPT_SECTOR), *tail = malloc(GPT_TAIL_SECTORS * GPT_SECTOR);
	struct gpt g;
	char err[160];

	(void)state;
	guids(ids);
	assert_int_equal(gpt_basalt_layout(1024ull * MIB, ids, &g, err, sizeof(err)), 0);
	g.part[GPT_P_META].first = g.part[GPT_P_BOOT].last;
	assert_int_equal(gpt_encode(&g, NULL, head, tail, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "partition 4 (META) overlaps partition 3 (BOOT)"));
	assert_int_equal(gpt_basalt_layout(1024ull * MIB, ids, &g, err, sizeof(err)), 0);
	g.part[GPT_P_EPHEMERAL].last = g.last_usable + 1;
	assert_int_equal(gpt_encode(&g, NULL, head, tail, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside the usable area"));
	assert_int_equal(gpt_basalt_layout(1024ull * MIB, ids, &g, err, sizeof(err)), 0);
	memset(g.part[GPT_P_STATE].type, 0, 16);
	assert_int_equal(gpt_encode(&g, NULL, head, tail, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "(STATE) has no type"));
	free(head);
	free(tail);
}

/* A disk image written at 1 GiB and grown to 4 GiB: EPHEMERAL takes the rest, the others
 * stay where they are, and the table written again decodes. */
static void test_grow(void **state)
{
	uint8_t ids[GPT_P_COUNT + 1][16];
	struct gpt g, d, before;
	char err[160];

	(void)state;
	guids(ids);
	assert_int_equal(gpt_basalt_layout(1024ull * MIB, ids, &g, err, sizeof(err)), 0);
	before = g;
	assert_int_equal(gpt_grow_last(&g, 1024ull * MIB), 1);
	assert_int_equal(gpt_grow_last(&g, 4096ull * MIB), 0);
	assert_int_equal(g.part[GPT_P_EPHEMERAL].last, 4095ull * MIB - 1);
	assert_int_equal(g.part[GPT_P_EPHEMERAL].first, before.part[GPT_P_EPHEMERAL].first);
	assert_int_equal(g.part[GPT_P_STATE].last, before.part[GPT_P_STATE].last);
	uint8_t *disk = disk_of(&g);
	assert_int_equal(gpt_decode(disk, GPT_HEAD_SECTORS * GPT_SECTOR, 4096ull * MIB, &d, err, sizeof(err)), 0);
	assert_int_equal(d.part[GPT_P_EPHEMERAL].last, 4095ull * MIB - 1);
	free(disk);
	/* Less than the tail more: no whole MiB to grow into. */
	assert_int_equal(gpt_grow_last(&g, 4096ull * MIB + 30), 1);
}

/* GRUB's BIOS boot code: the core image's LBA at 0x5c, the floppy probe gone, the
 * blocklist of diskboot filled in. */
static void test_grub(void **state)
{
	uint8_t boot[512] = {0}, code[440];
	uint8_t core[8 * GPT_SECTOR] = {0};
	char err[160];

	(void)state;
	assert_int_equal(gpt_grub_mbr(boot, 2048, code, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "boot signature"));
	boot[510] = 0x55, boot[511] = 0xaa;
	boot[0x66] = 0x74;
	assert_int_equal(gpt_grub_mbr(boot, 0x12345, code, err, sizeof(err)), 0);
	assert_int_equal(code[0x5c], 0x45);
	assert_int_equal(code[0x5d], 0x23);
	assert_int_equal(code[0x5e], 0x01);
	assert_int_equal(code[0x66], 0x90);
	assert_int_equal(code[0x67], 0x90);

	assert_int_equal(gpt_grub_core(core, sizeof(core), 2048, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no diskboot blocklist"));
	core[500 + 10] = 0x20, core[500 + 11] = 0x08;
	assert_int_equal(gpt_grub_core(core, sizeof(core), 2048, err, sizeof(err)), 0);
	assert_int_equal(core[500] | core[501] << 8, 2049);
	assert_int_equal(core[508], 7);
	assert_int_equal(gpt_grub_core(core, 100, 2048, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid),	 cmocka_unit_test(test_layout), cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_refuses), cmocka_unit_test(test_grow), cmocka_unit_test(test_grub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * mkdisk: assembles a Basalt system disk image (raw, sparse) with the layout of lib/gpt.c.
 *   mkdisk OUT SIZE_MIB SEED BOOT_IMG CORE_IMG EFI_FAT BOOT_FAT
 * BOOT_IMG and CORE_IMG are GRUB's i386-pc boot.img and core.img (the disk variant, whose
 * prefix is the disk's BOOT partition): the MBR's code points at the core image, written at
 * the start of the BIOS boot partition. EFI_FAT and BOOT_FAT are filesystem images written
 * at the start of the EFI and BOOT partitions. META, STATE and EPHEMERAL stay blank: the
 * node formats them on its first boot (EPHEMERAL after growing to the end of the disk).
 * Every GUID is derived from SEED, so the same inputs give the same image.
 */
#include "lib/gpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *out_path;

/* die(WHAT, WHY): "mkdisk: WHAT: WHY", or "mkdisk: WHAT" without WHY. */
static void die(const char *what, const char *why)
{
	fprintf(stderr, "mkdisk: %s%s%s\n", what, why ? ": " : "", why ? why : "");
	if (out_path)
		unlink(out_path);
	exit(1);
}

/* The whole file at path; *len its size. */
static uint8_t *slurp(const char *path, size_t *len, size_t pad_to)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path, "cannot read it");
	size_t n = (size_t)st.st_size, cap = pad_to ? (n + pad_to - 1) / pad_to * pad_to : n;
	uint8_t *b = calloc(1, cap ? cap : 1);
	if (!b)
		die(path, "out of memory");
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0)
			die(path, "short read");
		got += (size_t)r;
	}
	close(fd);
	*len = cap;
	return b;
}

static void put(int fd, const void *b, size_t len, uint64_t lba)
{
	/* Blocks of zeros stay holes: the image is sparse, and qemu-img leaves them out. */
	const uint8_t *p = b;
	for (size_t at = 0; at < len; at += 65536) {
		size_t n = len - at < 65536 ? len - at : 65536;
		size_t k = 0;
		while (k < n && !p[at + k])
			k++;
		if (k == n)
			continue;
		if (pwrite(fd, p + at, n, (off_t)(lba * GPT_SECTOR + at)) != (ssize_t)n)
			die(out_path, "write failed");
	}
}

/* A GUID from SEED and an index: FNV-1a then splitmix64, shaped as a version 4 GUID. */
static void guid_from(const char *seed, unsigned idx, uint8_t g[16])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = seed; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h ^= idx + 1;
	for (int i = 0; i < 2; i++) {
		uint64_t z = (h += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(g + 8 * i, &z, 8);
	}
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: mkdisk OUT SIZE_MIB SEED BOOT_IMG CORE_IMG EFI_FAT BOOT_FAT\n");
		return 2;
	}
	char err[256];
	uint64_t mib = strtoull(argv[2], NULL, 10), sectors = mib * 2048;
	uint8_t guids[GPT_P_COUNT + 1][16];
	for (unsigned i = 0; i <= GPT_P_COUNT; i++)
		guid_from(argv[3], i, guids[i]);
	struct gpt g;
	if (gpt_basalt_layout(sectors, guids, &g, err, sizeof(err)) < 0)
		die(err, NULL);

	size_t blen, clen, elen, bootlen;
	uint8_t *boot_img = slurp(argv[4], &blen, 0);
	uint8_t *core = slurp(argv[5], &clen, GPT_SECTOR);
	uint8_t *efi = slurp(argv[6], &elen, 0);
	uint8_t *bootfs = slurp(argv[7], &bootlen, 0);
	const struct gpt_part *pb = &g.part[GPT_P_BIOS], *pe = &g.part[GPT_P_EFI], *pboot = &g.part[GPT_P_BOOT];
	if (blen != 512)
		die(argv[4], "GRUB's boot.img is 512 bytes");
	if (clen / GPT_SECTOR > pb->last - pb->first + 1)
		die(argv[5], "larger than the BIOS boot partition");
	if (elen / GPT_SECTOR > pe->last - pe->first + 1)
		die(argv[6], "larger than the EFI partition");
	if (bootlen / GPT_SECTOR > pboot->last - pboot->first + 1)
		die(argv[7], "larger than the BOOT partition");
	uint8_t code[440];
	if (gpt_grub_mbr(boot_img, pb->first, code, err, sizeof(err)) < 0 ||
	    gpt_grub_core(core, clen, pb->first, err, sizeof(err)) < 0)
		die(err, NULL);
	static uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR], tail[GPT_TAIL_SECTORS * GPT_SECTOR];
	if (gpt_encode(&g, code, head, tail, err, sizeof(err)) < 0)
		die(err, NULL);

	out_path = argv[1];
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(out_path, "cannot create it");
	if (ftruncate(fd, (off_t)(sectors * GPT_SECTOR)) < 0)
		die(out_path, "cannot size it");
	put(fd, head, sizeof(head), 0);
	put(fd, tail, sizeof(tail), sectors - GPT_TAIL_SECTORS);
	put(fd, core, clen, pb->first);
	put(fd, efi, elen, pe->first);
	put(fd, bootfs, bootlen, pboot->first);
	if (fsync(fd) < 0 || close(fd) < 0)
		die(out_path, "cannot write it");
	return 0;
}

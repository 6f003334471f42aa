/* SPDX-License-Identifier: MIT */
/*
 * GUID partition tables (UEFI spec, chapter 5) on 512-byte sectors: encoding a table (the
 * protective MBR, the primary header and entries at the start, the backup entries and
 * header at the end) and decoding one read from a disk, which is outside input (every
 * field checked, both CRCs verified). Also the layout of a Basalt system disk and the
 * patches that make GRUB's BIOS boot code find its core image in the BIOS boot partition.
 */
#ifndef BASALT_LIB_GPT_H
#define BASALT_LIB_GPT_H

#include <stddef.h>
#include <stdint.h>

#define GPT_SECTOR 512u
#define GPT_ENTRIES 128u                           /* entries in the array we write */
#define GPT_HEAD_SECTORS 34u                       /* MBR, header, 32 sectors of entries */
#define GPT_TAIL_SECTORS 33u                       /* 32 sectors of entries, header */
#define GPT_MAX_PARTS 16u                          /* the used entries we keep when decoding */
#define GPT_NAME_MAX 36u                           /* UTF-16 code units in an entry's name */

struct gpt_part {
	uint8_t type[16];  /* on-disk (mixed-endian) byte order */
	uint8_t uuid[16];
	uint64_t first, last; /* inclusive LBAs */
	uint64_t attrs;
	char name[GPT_NAME_MAX + 1]; /* ASCII; other code units decode as '?' */
	unsigned index;              /* 1-based entry number: the kernel's partition number */
};

struct gpt {
	uint8_t disk_guid[16];
	uint64_t sectors; /* of the disk (decoded: the disk the table was written for, which
			   * ends at its backup header; a grown disk has more) */
	uint64_t first_usable, last_usable;
	unsigned n;
	struct gpt_part part[GPT_MAX_PARTS];
};

/* Well-known partition types. */
extern const uint8_t GPT_TYPE_EFI[16], GPT_TYPE_BIOS[16], GPT_TYPE_LINUX[16];

/* gpt_guid_parse: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" to on-disk bytes; 0 or -1. */
int gpt_guid_parse(const char *s, uint8_t out[16]);
/* gpt_guid_format: the text form (37 bytes with the NUL). */
void gpt_guid_format(const uint8_t g[16], char out[37]);

/*
 * gpt_encode: the table g describes (g->n entries in order, numbered from 1) as the
 * GPT_HEAD_SECTORS sectors for LBA 0 and the GPT_TAIL_SECTORS sectors for the disk's end.
 * mbr_code, when given, is the 440 bytes of boot code the protective MBR starts with.
 * Refuses (-1 with err) partitions that overlap, leave the usable area or are empty.
 */
int gpt_encode(const struct gpt *g, const uint8_t *mbr_code, uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR],
	       uint8_t tail[GPT_TAIL_SECTORS * GPT_SECTOR], char *err, size_t errlen);

/*
 * gpt_decode: the primary table in buf (len bytes from LBA 0; at least two sectors, and the
 * entries where the header says they are must be within buf) of a disk of `sectors`
 * sectors (at least the table's: a disk may have grown since). 0 with g filled (used
 * entries only), 1 when there is no GPT signature (not a GPT disk), -1 with err when there
 * is one but it is damaged.
 */
int gpt_decode(const uint8_t *buf, size_t len, uint64_t sectors, struct gpt *g, char *err, size_t errlen);

/* gpt_find: the partition named name, or NULL. */
const struct gpt_part *gpt_find(const struct gpt *g, const char *name);

/* The Basalt system disk (ARCHITECTURE.md, Disks), in order: EFI, BIOS, BOOT, META, STATE,
 * EPHEMERAL (the rest of the disk, at least GPT_EPHEMERAL_MIN_MIB). */
enum { GPT_P_EFI, GPT_P_BIOS, GPT_P_BOOT, GPT_P_META, GPT_P_STATE, GPT_P_EPHEMERAL, GPT_P_COUNT };
#define GPT_EPHEMERAL_MIN_MIB 300u /* mkfs.xfs's own floor */
extern const char *const gpt_basalt_names[GPT_P_COUNT];

/*
 * gpt_basalt_layout: the system disk layout for a disk of `sectors` sectors, aligned to
 * MiB. GUIDs: the disk's and each partition's are taken from guids (GPT_P_COUNT + 1 of
 * them, the disk's first); the caller makes them random (an install) or derived from the
 * build's inputs (a reproducible image). -1 with err when the disk is too small.
 */
int gpt_basalt_layout(uint64_t sectors, const uint8_t guids[GPT_P_COUNT + 1][16], struct gpt *g, char *err,
		      size_t errlen);

/* gpt_grow_last: moves the end of the last partition (EPHEMERAL) and the usable area to the
 * end of a disk of `sectors` sectors. 0 when it grew, 1 when there was nothing to grow. */
int gpt_grow_last(struct gpt *g, uint64_t sectors);

/*
 * GRUB's BIOS boot: gpt_grub_mbr writes the 440 bytes of boot code for the MBR from GRUB's
 * boot.img (512 bytes), pointing it at the core image's first sector core_lba and removing
 * its floppy check, as grub-bios-setup does for a hard disk. gpt_grub_core patches the
 * core image's first sector (diskboot) with the blocklist of the rest, which follows it
 * contiguously. -1 with err when the images are not GRUB's.
 */
int gpt_grub_mbr(const uint8_t boot_img[512], uint64_t core_lba, uint8_t code[440], char *err, size_t errlen);
int gpt_grub_core(uint8_t *core, size_t len, uint64_t core_lba, char *err, size_t errlen);

/* crc32 as GPT uses it (IEEE 802.3, reflected, inverted). */
uint32_t gpt_crc32(const void *data, size_t len);

#endif

/* SPDX-License-Identifier: MIT */
/* GUID partition tables: see gpt.h. */
#include "lib/gpt.h"

#include <stdio.h>
#include <string.h>

#define MIB_SECTORS (1024u * 1024u / GPT_SECTOR)
#define HDR_SIZE 92u
#define ENTRY_SIZE 128u
#define ENTRIES_BYTES (GPT_ENTRIES * ENTRY_SIZE) /* 16 KiB: 32 sectors */

/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B, 21686148-6449-6E6F-744E-656564454649 and
 * 0FC63DAF-8483-4772-8E79-3D69D8477DE4, in on-disk order. */
const uint8_t GPT_TYPE_EFI[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
const uint8_t GPT_TYPE_BIOS[16] = {0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
				   0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49};
const uint8_t GPT_TYPE_LINUX[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
				    0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

const char *const gpt_basalt_names[GPT_P_COUNT] = {"EFI", "BIOS", "BOOT", "META", "STATE", "EPHEMERAL"};

/* Sizes in MiB; EPHEMERAL takes the rest. */
static const unsigned basalt_mib[GPT_P_COUNT] = {100, 1, 400, 1, 100, 0};

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

uint32_t gpt_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* The text form's byte order: the first three fields are little-endian on disk. */
static const int guid_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

int gpt_guid_parse(const char *s, uint8_t out[16])
{
	uint8_t b[16];
	int n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 || p - s == 23))
			continue;
		int v = *p >= '0' && *p <= '9' ? *p - '0' : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ? (*p | 0x20) - 'a' + 10 : -1;
		if (v < 0 || n >= 32)
			return -1;
		b[n / 2] = (uint8_t)(n % 2 ? b[n / 2] | v : v << 4);
		n++;
	}
	if (n != 32 || strlen(s) != 36)
		return -1;
	for (int i = 0; i < 16; i++)
		out[guid_order[i]] = b[i];
	return 0;
}

void gpt_guid_format(const uint8_t g[16], char out[37])
{
	char *p = out;
	for (int i = 0; i < 16; i++) {
		p += sprintf(p, "%02X", g[guid_order[i]]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*p++ = '-';
	}
	*p = 0;
}

static int zero16(const uint8_t g[16])
{
	for (int i = 0; i < 16; i++)
		if (g[i])
			return 0;
	return 1;
}

static void header(uint8_t *h, const struct gpt *g, uint64_t my, uint64_t alt, uint64_t entries_lba, uint32_t entries_crc)
{
	memset(h, 0, GPT_SECTOR);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000u);
	put32(h + 12, HDR_SIZE);
	put64(h + 24, my);
	put64(h + 32, alt);
	put64(h + 40, g->first_usable);
	put64(h + 48, g->last_usable);
	memcpy(h + 56, g->disk_guid, 16);
	put64(h + 72, entries_lba);
	put32(h + 80, GPT_ENTRIES);
	put32(h + 84, ENTRY_SIZE);
	put32(h + 88, entries_crc);
	put32(h + 16, gpt_crc32(h, HDR_SIZE));
}

int gpt_encode(const struct gpt *g, const uint8_t *mbr_code, uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR],
	       uint8_t tail[GPT_TAIL_SECTORS * GPT_SECTOR], char *err, size_t errlen)
{
	uint64_t last = g->sectors - 1;
	if (g->sectors < GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1)
		return ERR("a disk of %llu sectors is too small for a GPT", (unsigned long long)g->sectors);
	if (g->first_usable < GPT_HEAD_SECTORS || g->last_usable > last - GPT_TAIL_SECTORS || g->first_usable > g->last_usable)
		return ERR("usable area %llu-%llu is outside the disk's", (unsigned long long)g->first_usable,
			   (unsigned long long)g->last_usable);
	if (g->n > GPT_MAX_PARTS)
		return ERR("%u partitions: at most %u", g->n, GPT_MAX_PARTS);
	memset(head, 0, GPT_HEAD_SECTORS * GPT_SECTOR);
	memset(tail, 0, GPT_TAIL_SECTORS * GPT_SECTOR);
	uint8_t *entries = head + 2 * GPT_SECTOR;
	for (unsigned i = 0; i < g->n; i++) {
		const struct gpt_part *p = &g->part[i];
		if (p->first < g->first_usable || p->last > g->last_usable || p->first > p->last)
			return ERR("partition %u (%s): sectors %llu-%llu outside the usable area %llu-%llu", i + 1, p->name,
				   (unsigned long long)p->first, (unsigned long long)p->last,
				   (unsigned long long)g->first_usable, (unsigned long long)g->last_usable);
		if (zero16(p->type))
			return ERR("partition %u (%s) has no type", i + 1, p->name);
		for (unsigned j = 0; j < i; j++)
			if (p->first <= g->part[j].last && g->part[j].first <= p->last)
				return ERR("partition %u (%s) overlaps partition %u (%s)", i + 1, p->name, j + 1, g->part[j].name);
		uint8_t *e = entries + i * ENTRY_SIZE;
		memcpy(e, p->type, 16);
		memcpy(e + 16, p->uuid, 16);
		put64(e + 32, p->first);
		put64(e + 40, p->last);
		put64(e + 48, p->attrs);
		for (unsigned k = 0; k < GPT_NAME_MAX && p->name[k]; k++)
			put16(e + 56 + 2 * k, (uint8_t)p->name[k]);
	}
	uint32_t ecrc = gpt_crc32(entries, ENTRIES_BYTES);
	header(head + GPT_SECTOR, g, 1, last, 2, ecrc);
	memcpy(tail, entries, ENTRIES_BYTES);
	header(tail + ENTRIES_BYTES, g, last, 1, last - 32, ecrc);

	/* The protective MBR: one partition of type 0xEE over the whole disk (or as much as
	 * 32 bits say). */
	uint8_t *mbr = head;
	if (mbr_code)
		memcpy(mbr, mbr_code, 440);
	uint8_t *pe = mbr + 0x1be;
	pe[1] = 0x00, pe[2] = 0x02, pe[3] = 0x00; /* CHS of LBA 1 */
	pe[4] = 0xee;
	pe[5] = pe[6] = pe[7] = 0xff;
	put32(pe + 8, 1);
	put32(pe + 12, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	mbr[510] = 0x55, mbr[511] = 0xaa;
	return 0;
}

int gpt_decode(const uint8_t *buf, size_t len, uint64_t sectors, struct gpt *g, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (len < 2 * GPT_SECTOR)
		return ERR("%zu bytes: too short for a partition table", len);
	const uint8_t *h = buf + GPT_SECTOR;
	if (memcmp(h, "EFI PART", 8))
		return 1;
	uint32_t hsize = get32(h + 12);
	if (hsize < HDR_SIZE || hsize > GPT_SECTOR)
		return ERR("GPT header size %u (want 92..512)", hsize);
	uint8_t copy[GPT_SECTOR];
	memcpy(copy, h, hsize);
	memset(copy + 16, 0, 4);
	if (gpt_crc32(copy, hsize) != get32(h + 16))
		return ERR("GPT header checksum mismatch");
	if (get64(h + 24) != 1)
		return ERR("GPT header at LBA 1 says it is at LBA %llu", (unsigned long long)get64(h + 24));
	/* The backup header is at the end of the disk the table was written for: a disk that
	 * has grown since (a larger cloud volume) has more sectors. */
	uint64_t alt = get64(h + 32);
	if (alt >= sectors || alt < 2)
		return ERR("GPT backup header at LBA %llu is outside a disk of %llu sectors", (unsigned long long)alt,
			   (unsigned long long)sectors);
	g->sectors = alt + 1;
	g->first_usable = get64(h + 40);
	g->last_usable = get64(h + 48);
	if (g->first_usable > g->last_usable || g->last_usable >= alt)
		return ERR("GPT usable area %llu-%llu does not fit before its backup header at LBA %llu",
			   (unsigned long long)g->first_usable, (unsigned long long)g->last_usable,
			   (unsigned long long)alt);
	memcpy(g->disk_guid, h + 56, 16);
	uint64_t elba = get64(h + 72);
	uint32_t count = get32(h + 80), esize = get32(h + 84);
	if (esize < ENTRY_SIZE || esize > 4096 || esize % 8)
		return ERR("GPT entry size %u (want a multiple of 8 from 128)", esize);
	if (count > 4096)
		return ERR("GPT claims %u entries (at most 4096)", count);
	uint64_t ebytes = (uint64_t)count * esize;
	if (elba < 2 || elba > len / GPT_SECTOR || ebytes > len - elba * GPT_SECTOR)
		return ERR("GPT entries at LBA %llu (%llu bytes) are beyond the %zu bytes read",
			   (unsigned long long)elba, (unsigned long long)ebytes, len);
	const uint8_t *entries = buf + elba * GPT_SECTOR;
	if (gpt_crc32(entries, (size_t)ebytes) != get32(h + 88))
		return ERR("GPT entries checksum mismatch");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = entries + (size_t)i * esize;
		if (zero16(e))
			continue;
		if (g->n == GPT_MAX_PARTS)
			return ERR("more than %u partitions", GPT_MAX_PARTS);
		struct gpt_part *p = &g->part[g->n];
		memcpy(p->type, e, 16);
		memcpy(p->uuid, e + 16, 16);
		p->first = get64(e + 32);
		p->last = get64(e + 40);
		p->attrs = get64(e + 48);
		p->index = i + 1;
		if (p->first > p->last || p->last > g->last_usable || p->first < g->first_usable)
			return ERR("GPT entry %u: sectors %llu-%llu are outside the usable area", i + 1,
				   (unsigned long long)p->first, (unsigned long long)p->last);
		unsigned k = 0;
		for (; k < GPT_NAME_MAX; k++) {
			uint16_t c = get16(e + 56 + 2 * k);
			if (!c)
				break;
			p->name[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		p->name[k] = 0;
		g->n++;
	}
	return 0;
}

const struct gpt_part *gpt_find(const struct gpt *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++)
		if (!strcmp(g->part[i].name, name))
			return &g->part[i];
	return NULL;
}

int gpt_basalt_layout(uint64_t sectors, const uint8_t guids[GPT_P_COUNT + 1][16], struct gpt *g, char *err,
		      size_t errlen)
{
	memset(g, 0, sizeof(*g));
	uint64_t fixed = 0;
	for (int i = 0; i < GPT_P_COUNT; i++)
		fixed += basalt_mib[i];
	/* One MiB before the first partition (the head, aligned) and one after the last
	 * (the tail, rounded). */
	uint64_t need = (fixed + GPT_EPHEMERAL_MIN_MIB + 2) * MIB_SECTORS;
	if (sectors < need)
		return ERR("the disk has %llu MiB; a Basalt system disk needs at least %llu MiB",
			   (unsigned long long)(sectors / MIB_SECTORS), (unsigned long long)(need / MIB_SECTORS));
	g->sectors = sectors;
	g->first_usable = GPT_HEAD_SECTORS;
	g->last_usable = sectors - 1 - GPT_TAIL_SECTORS;
	memcpy(g->disk_guid, guids[0], 16);
	uint64_t at = MIB_SECTORS;
	for (int i = 0; i < GPT_P_COUNT; i++) {
		struct gpt_part *p = &g->part[i];
		memcpy(p->type, i == GPT_P_EFI ? GPT_TYPE_EFI : i == GPT_P_BIOS ? GPT_TYPE_BIOS : GPT_TYPE_LINUX, 16);
		memcpy(p->uuid, guids[i + 1], 16);
		snprintf(p->name, sizeof(p->name), "%s", gpt_basalt_names[i]);
		p->index = (unsigned)i + 1;
		p->first = at;
		/* The last partition ends at the last whole MiB the tail leaves. */
		p->last = basalt_mib[i] ? at + basalt_mib[i] * MIB_SECTORS - 1
					: (g->last_usable + 1) / MIB_SECTORS * MIB_SECTORS - 1;
		at = p->last + 1;
	}
	g->part[GPT_P_BIOS].attrs = 1; /* required by the platform: never move it */
	g->n = GPT_P_COUNT;
	return 0;
}

int gpt_grow_last(struct gpt *g, uint64_t sectors)
{
	if (!g->n || sectors <= g->sectors)
		return 1;
	struct gpt_part *last = &g->part[0];
	for (unsigned i = 1; i < g->n; i++)
		if (g->part[i].last > last->last)
			last = &g->part[i];
	uint64_t end = (sectors - 1 - GPT_TAIL_SECTORS + 1) / MIB_SECTORS * MIB_SECTORS - 1;
	g->sectors = sectors;
	g->last_usable = sectors - 1 - GPT_TAIL_SECTORS;
	if (end <= last->last)
		return 1;
	last->last = end;
	return 0;
}

/* GRUB's i386-pc boot.img: the LBA of the core image at 0x5c, the boot drive at 0x64
 * (0xff: the one the BIOS booted), the floppy probe jump at 0x66; diskboot's blocklist in
 * the last 12 bytes of the core image's first sector (start LBA, sector count, segment). */
#define GRUB_KERNEL_SECTOR 0x5c
#define GRUB_DRIVE_CHECK 0x66
#define GRUB_BLOCKLIST (GPT_SECTOR - 12)
#define GRUB_CORE_SEGMENT 0x820

int gpt_grub_mbr(const uint8_t boot_img[512], uint64_t core_lba, uint8_t code[440], char *err, size_t errlen)
{
	if (boot_img[510] != 0x55 || boot_img[511] != 0xaa)
		return ERR("GRUB boot.img has no boot signature");
	memcpy(code, boot_img, 440);
	put64(code + GRUB_KERNEL_SECTOR, core_lba);
	code[GRUB_DRIVE_CHECK] = 0x90, code[GRUB_DRIVE_CHECK + 1] = 0x90;
	return 0;
}

int gpt_grub_core(uint8_t *core, size_t len, uint64_t core_lba, char *err, size_t errlen)
{
	if (len < 2 * GPT_SECTOR || len % GPT_SECTOR)
		return ERR("GRUB core.img of %zu bytes (want whole sectors, at least two)", len);
	size_t rest = len / GPT_SECTOR - 1;
	if (rest > 0xffff)
		return ERR("GRUB core.img of %zu sectors is too large for one blocklist", rest + 1);
	uint8_t *bl = core + GRUB_BLOCKLIST;
	/* grub-mkimage leaves the segment of the first list in place: its presence says the
	 * image is diskboot's. */
	if (get16(bl + 10) != GRUB_CORE_SEGMENT)
		return ERR("GRUB core.img: no diskboot blocklist at offset 0x%x", GRUB_BLOCKLIST);
	put64(bl, core_lba + 1);
	put16(bl + 8, (uint16_t)rest);
	return 0;
}

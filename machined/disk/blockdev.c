/* SPDX-License-Identifier: MIT */
/* Block devices: see blockdev.h. */
#include "machined/disk/blockdev.h"

#include "lib/atomicfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/gpt.h"
#include "lib/spawn.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

int blk_uevent_get(const char *text, size_t len, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);

	for (size_t at = 0; at < len;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;

		if (n > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
			size_t vlen = n - klen - 1;
			if (vlen >= outlen || memchr(line + klen + 1, '\0', vlen))
				return -1;
			memcpy(out, line + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		at += n + 1;
	}
	return -1;
}

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

int blk_find_part(const char *sysfs, const char *label, struct blk_part *out, char *err, size_t errlen)
{
	char dir[256], path[320], text[1024], real[PATH_MAX];
	struct blk_part p;
	int found = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/class/block", sysfs);
	if (!(d = opendir(dir)))
		return ERR("%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(p.name))
			continue;
		snprintf(path, sizeof(path), "%s/%.31s/uevent", dir, e->d_name);
		if ((n = read_small(path, text, sizeof(text))) <= 0)
			continue;
		memset(&p, 0, sizeof(p));
		char type[32], partn[16];
		if (blk_uevent_get(text, (size_t)n, "DEVTYPE", type, sizeof(type)) < 0 || strcmp(type, "partition") ||
		    blk_uevent_get(text, (size_t)n, "PARTNAME", p.label, sizeof(p.label)) < 0 || strcmp(p.label, label) ||
		    blk_uevent_get(text, (size_t)n, "PARTN", partn, sizeof(partn)) < 0)
			continue;
		snprintf(p.name, sizeof(p.name), "%.31s", e->d_name);
		p.partno = (unsigned)strtoul(partn, NULL, 10);
		snprintf(path, sizeof(path), "%s/%.31s/size", dir, e->d_name);
		if ((n = read_small(path, text, sizeof(text))) > 0)
			p.size = strtoull(text, NULL, 10) * 512;
		/* The partition's directory is inside its disk's. */
		snprintf(path, sizeof(path), "%s/%.31s", dir, e->d_name);
		if (!realpath(path, real))
			continue;
		char *slash = strrchr(real, '/');
		if (!slash)
			continue;
		*slash = '\0';
		slash = strrchr(real, '/');
		if (!slash || strlen(slash + 1) >= sizeof(p.disk))
			continue;
		snprintf(p.disk, sizeof(p.disk), "%s", slash + 1);
		if (found) {
			closedir(d);
			return ERR("two partitions are named %s (%s on %s and %s on %s): which one is the system's is not "
				   "clear, so neither is used",
				   label, out->name, out->disk, p.name, p.disk);
		}
		*out = p;
		found = 1;
	}
	closedir(d);
	return found ? 0 : 1;
}

/* One line of a sysfs attribute, trimmed; "" when absent. */
static void attr(const char *dir, const char *name, char *out, size_t outlen)
{
	char path[PATH_MAX];
	ssize_t n;

	out[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	n = read_small(path, out, outlen - 1);
	if (n <= 0)
		return;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	size_t lead = strspn(out, " ");
	memmove(out, out + lead, (size_t)n - lead + 1);
}

static bool skipped(const char *name)
{
	static const char *const prefixes[] = { "loop", "ram", "zram", "dm-", "md", "nbd", "sr", "fd" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int disk_cmp(const void *a, const void *b)
{
	return strcmp(((const struct blk_disk *)a)->name, ((const struct blk_disk *)b)->name);
}

void blk_pretty_size(uint64_t b, char *out, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 5)
		v /= 1000, u++;
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int blk_list_disks(const char *sysfs, struct blk_disk *out, size_t max, char *err, size_t errlen)
{
	char dir[256], path[320], real[PATH_MAX], v[64];
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/class/block", sysfs);
	if (!(d = opendir(dir)))
		return ERR("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n < max) {
		struct blk_disk *k = &out[n];
		char dev[PATH_MAX];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(k->name) || skipped(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%.31s", dir, e->d_name);
		snprintf(dev, sizeof(dev), "%s/partition", path);
		if (access(dev, F_OK) == 0 || !realpath(path, real))
			continue;
		snprintf(dev, sizeof(dev), "%s/device", path);
		if (access(dev, F_OK) != 0) /* a virtual block device */
			continue;
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%.31s", e->d_name);
		attr(path, "size", v, sizeof(v));
		k->size = strtoull(v, NULL, 10) * 512u;
		attr(path, "ro", v, sizeof(v));
		k->readonly = v[0] == '1';
		attr(path, "queue/rotational", v, sizeof(v));
		k->rotational = v[0] == '1';
		attr(path, "device/model", k->model, sizeof(k->model));
		attr(path, "device/serial", k->serial, sizeof(k->serial));
		if (!k->serial[0])
			attr(path, "serial", k->serial, sizeof(k->serial)); /* virtio-blk */
		attr(path, "device/wwid", k->wwid, sizeof(k->wwid));
		if (!k->wwid[0])
			attr(path, "wwid", k->wwid, sizeof(k->wwid));
		attr(path, "device/modalias", k->modalias, sizeof(k->modalias));
		/* The transport, from the devices the disk hangs off. */
		const char *t = strstr(real, "/nvme") ? "nvme" : strstr(real, "/usb") ? "usb" : strstr(real, "/ata") ? "sata"
				: strstr(real, "/virtio") ? "virtio" : strstr(real, "/mmc") ? "mmc" : strstr(real, "/host") ? "scsi" : "";
		snprintf(k->transport, sizeof(k->transport), "%s", t);
		const char *devs = strstr(real, "/devices/"), *blk = strstr(real, "/block/");
		if (devs && blk && blk > devs)
			snprintf(k->bus_path, sizeof(k->bus_path), "%.*s", (int)(blk - devs - 8), devs + 8);
		snprintf(k->type, sizeof(k->type), "%s",
			 !strcmp(t, "nvme") ? "nvme" : !strcmp(t, "mmc") ? "sd" : k->rotational ? "hdd" : "ssd");
		n++;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), disk_cmp);
	return (int)n;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *blk_fs_probe(const uint8_t *buf, size_t len)
{
	if (len >= 4 && memcmp(buf, "XFSB", 4) == 0)
		return "xfs";
	if (len >= 4 && le32(buf) == 0x73717368u) /* "hsqs" */
		return "squashfs";
	if (len >= 1082 && buf[1080] == 0x53 && buf[1081] == 0xef)
		return "ext4";
	if (len >= 32774 && memcmp(buf + 32769, "CD001", 5) == 0)
		return "iso9660";
	if (len >= 1024 && memcmp(buf + 512, "EFI PART", 8) == 0)
		return "gpt";
	if (len >= 512 && buf[510] == 0x55 && buf[511] == 0xaa) {
		if (memcmp(buf + 0x52, "FAT32   ", 8) == 0 || memcmp(buf + 0x36, "FAT1", 4) == 0 ||
		    memcmp(buf + 0x36, "FAT ", 4) == 0)
			return "vfat";
		return "mbr";
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return "data";
	return NULL;
}

void blk_fs_label(const uint8_t *buf, size_t len, const char *fs, char *out, size_t outlen)
{
	const uint8_t *l = NULL;
	size_t n = 0;

	if (fs && strcmp(fs, "iso9660") == 0 && len >= 32768 + 40 + 32)
		l = buf + 32768 + 40, n = 32;  /* the primary volume descriptor's volume id */
	else if (fs && strcmp(fs, "vfat") == 0 && len >= 0x52 + 8)
		l = memcmp(buf + 0x52, "FAT32   ", 8) == 0 ? buf + 0x47 : buf + 0x2b, n = 11;
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\0'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = l[i] >= 0x20 && l[i] < 0x7f ? (char)l[i] : '?';
	out[n] = '\0';
	/* FAT's placeholder for a volume without a name. */
	if (strcmp(out, "NO NAME") == 0)
		out[0] = '\0';
}

int blk_find_labelled(const char *sysfs, const char *devdir, const char *label, const char *skip, bool whole_only,
		      char *out, size_t outlen, const char **fs)
{
	static uint8_t buf[34 * 1024];
	char dir[256];
	DIR *d;
	struct dirent *e;
	int found = 1;

	snprintf(dir, sizeof(dir), "%s/class/block", sysfs);
	if (!(d = opendir(dir)))
		return 1;
	while (found && (e = readdir(d))) {
		char path[512], part[512], l[40];
		const char *what;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.' || (skip && strcmp(e->d_name, skip) == 0) || strncmp(e->d_name, "loop", 4) == 0 ||
		    strncmp(e->d_name, "ram", 3) == 0)
			continue;
		snprintf(part, sizeof(part), "%s/%.200s/partition", dir, e->d_name);
		if (whole_only && access(part, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%.200s", devdir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = pread(fd, buf, sizeof(buf), 0);
		close(fd);
		if (n <= 0)
			continue;
		what = blk_fs_probe(buf, (size_t)n);
		if (!what || (strcmp(what, "iso9660") != 0 && strcmp(what, "vfat") != 0))
			continue;
		blk_fs_label(buf, (size_t)n, what, l, sizeof(l));
		if (strcasecmp(l, label) == 0) {
			snprintf(out, outlen, "%s", path);
			if (fs)
				*fs = what;
			found = 0;
		}
	}
	closedir(d);
	return found;
}

int blk_probe_dev(const char *path, const char **what, char *err, size_t errlen)
{
	static uint8_t buf[BLK_PROBE_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t size = 0;
	int r;

	if (fd < 0)
		return ERR("open %s: %s", path, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = BLK_PROBE_BYTES;
	size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
	r = fd_pread_all(fd, buf, n, 0);
	close(fd);
	if (r < 0)
		return ERR("read %s: %s", path, strerror(-r));
	*what = blk_fs_probe(buf, n);
	return 0;
}

int blk_grow_disk(const char *path, uint64_t *grown_mib, char *err, size_t errlen)
{
	static uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR], tail[GPT_TAIL_SECTORS * GPT_SECTOR];
	uint8_t code[440], zero[GPT_SECTOR] = { 0 };
	uint64_t bytes = 0;
	int ssz = 0, r, fd;
	struct gpt g;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return ERR("open %s: %s", path, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 || ioctl(fd, BLKSSZGET, &ssz) < 0) {
		r = ERR("%s: size: %s", path, strerror(errno));
		goto out;
	}
	if (ssz != GPT_SECTOR) {
		r = ERR("%s has %d-byte sectors: only 512 are supported", path, ssz);
		goto out;
	}
	if ((r = fd_pread_all(fd, head, sizeof(head), 0)) < 0) {
		r = ERR("read %s: %s", path, strerror(-r));
		goto out;
	}
	uint64_t sectors = bytes / GPT_SECTOR;
	char why[160];
	if ((r = gpt_decode(head, sizeof(head), sectors, &g, why, sizeof(why))) != 0) {
		r = r > 0 ? ERR("%s has no GPT", path) : ERR("%s: %s", path, why);
		goto out;
	}
	for (unsigned i = 0; i < g.n; i++)
		if (g.part[i].index != i + 1) {
			r = ERR("%s: partition entries are not numbered 1 to %u in order: not a table Basalt wrote, "
				"left as it is", path, g.n);
			goto out;
		}
	uint64_t old_alt = g.sectors - 1, old_last = 0;
	for (unsigned i = 0; i < g.n; i++)
		if (g.part[i].last > old_last)
			old_last = g.part[i].last;
	if (gpt_grow_last(&g, sectors) != 0) {
		r = 1;
		goto out;
	}
	struct gpt_part *last = NULL;
	for (unsigned i = 0; i < g.n; i++)
		if (!last || g.part[i].last > last->last)
			last = &g.part[i];
	memcpy(code, head, sizeof(code));
	if (gpt_encode(&g, code, head, tail, why, sizeof(why)) < 0) {
		r = ERR("%s: %s", path, why);
		goto out;
	}
	/* The new backup first, then the primary; the old backup header, now inside the grown
	 * partition, is cleared so no tool finds two. */
	if ((r = fd_pwrite_all(fd, tail, sizeof(tail), (sectors - GPT_TAIL_SECTORS) * GPT_SECTOR)) < 0 ||
	    (r = fd_pwrite_all(fd, head, sizeof(head), 0)) < 0 || (r = fd_pwrite_all(fd, zero, sizeof(zero), old_alt * GPT_SECTOR)) < 0 ||
	    (fsync(fd) < 0 && (r = -errno) < 0)) {
		r = ERR("write %s: %s", path, strerror(-r));
		goto out;
	}
	struct blkpg_partition bp = { .start = (long long)(last->first * GPT_SECTOR),
				      .length = (long long)((last->last - last->first + 1) * GPT_SECTOR),
				      .pno = (int)last->index };
	struct blkpg_ioctl_arg arg = { .op = BLKPG_RESIZE_PARTITION, .datalen = sizeof(bp), .data = &bp };
	if (ioctl(fd, BLKPG, &arg) < 0) {
		r = ERR("%s: the table grew, but the kernel did not take partition %u's new size: %s", path, last->index,
			strerror(errno));
		goto out;
	}
	*grown_mib = (last->last - old_last) / (1024 * 1024 / GPT_SECTOR);
	r = 0;
out:
	close(fd);
	return r;
}

int blk_mkfs(char *const *argv, char *err, size_t errlen)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				      /* mkfs.xfs refuses filesystems under 300 MB (STATE is 100 MiB)
				       * unless it believes it runs under the xfstests harness. */
				      "TEST_DIR=/tmp", "TEST_DEV=basalt", "QA_CHECK_FS=0", NULL };
	char out[4096], why[256];
	size_t used = 0;
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ERR("pipe: %s", strerror(errno));
	struct spawn_opts o = { .argv = argv, .envp = envp, .stdin_fd = -1, .stdout_fd = pfd[1], .stderr_fd = -1 };
	if (spawn(&o, &pid, why, sizeof(why)) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return ERR("%s", why);
	}
	close(pfd[1]);
	/* Keeps the last sizeof(out) bytes of what it says. */
	for (;;) {
		if (used == sizeof(out)) {
			memmove(out, out + sizeof(out) / 2, sizeof(out) / 2);
			used = sizeof(out) / 2;
		}
		ssize_t n = read(pfd[0], out + used, sizeof(out) - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ERR("wait for %s: %s", argv[0], strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
		used--;
	size_t start = used;
	while (start && out[start - 1] != '\n')
		start--;
	return ERR("%s %s: %.*s", argv[0],
		   WIFEXITED(status) ? "failed" : "was killed", (int)(used - start), out + start);
}

int blk_mount(const char *dev, const char *dir, const char *fstype, unsigned long flags, char *err, size_t errlen)
{
	struct stat sd, sm;

	if (stat(dev, &sd) < 0)
		return ERR("%s: %s", dev, strerror(errno));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ERR("mkdir %s: %s", dir, strerror(errno));
	if (stat(dir, &sm) == 0 && S_ISBLK(sd.st_mode) && sm.st_dev == sd.st_rdev)
		return 1;
	if (mount(dev, dir, fstype, flags, NULL) < 0)
		return ERR("mount %s on %s (%s): %s", dev, dir, fstype, strerror(errno));
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The system disk's volumes at boot: see volumes.h. */
#include "machined/disk/volumes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "machined/disk/blockdev.h"

struct volume {
	const char *label;
	const char *dir;
	unsigned long flags;
	mode_t mode; /* of its root once mounted */
	bool grow; /* the last partition: grown to the disk's end before it is formatted */
};

/* Says on the console what became of a volume and keeps it in o: -1, or 0 for "ready". */
__attribute__((format(printf, 3, 4))) static int outcome(struct volume_outcome *o, const char *phase, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	snprintf(o->phase, sizeof(o->phase), "%s", phase);
	log_console("volumes: %s", o->message);
	return strcmp(phase, "ready") == 0 ? 0 : -1;
}

/* One volume: 0 mounted, -1 not (said why). */
static int volume_up(const struct volumes_env *e, const struct volume *v, const struct blk_part *p,
		     struct volume_outcome *o)
{
	char dev[96], err[512];
	const char *what;
	int r;

	snprintf(dev, sizeof(dev), "%s/%s", e->devdir, p->name);
	if (blk_probe_dev(dev, &what, err, sizeof(err)) < 0) {
		return outcome(o, "failed", "%s (%s): %s; kept in memory", v->label, dev, err);
	}
	if (!what) {
		if (v->grow) {
			char disk[96];
			uint64_t mib = 0;

			snprintf(disk, sizeof(disk), "%s/%s", e->devdir, p->disk);
			r = blk_grow_disk(disk, &mib, err, sizeof(err));
			if (r < 0)
				log_console("volumes: %s: not grown: %s", v->label, err);
			else if (r == 0)
				log_console("volumes: %s grown by %llu MiB to the end of %s", v->label, (unsigned long long)mib,
					    disk);
		}
		char *argv[] = { (char *)e->mkfs_xfs, "-q", "-L", (char *)v->label, dev, NULL };
		if (blk_mkfs(argv, err, sizeof(err)) < 0) {
			return outcome(o, "failed", "%s (%s) is blank, but formatting it failed: %s; kept in memory", v->label,
				       dev, err);
		}
		log_console("volumes: %s (%s) was blank: formatted as xfs", v->label, dev);
	} else if (strcmp(what, "xfs") != 0) {
		return outcome(o, "refused", "%s (%s) holds %s, not xfs: not formatted over, not mounted; kept in memory",
			       v->label, dev, what);
	}
	r = blk_mount(dev, v->dir, "xfs", v->flags, err, sizeof(err));
	if (r < 0) {
		return outcome(o, "failed", "%s: %s; kept in memory", v->label, err);
	}
	if (chmod(v->dir, v->mode) < 0)
		log_warn("volumes: chmod %s", v->dir);
	return outcome(o, "ready", "%s (%s) %s %s", v->label, dev, r == 0 ? "mounted on" : "already mounted on", v->dir);
}

void volumes_boot(const struct volumes_env *e, struct volumes_result *res)
{
	/* EPHEMERAL first: it may grow, which rewrites the table, before anything on the disk
	 * is in use. */
	const struct volume vols[] = {
		{ "EPHEMERAL", e->var_dir, MS_NOSUID | MS_NODEV, 0755, true },
		{ "STATE", e->state_dir, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0700, false },
	};
	struct blk_part parts[2];
	char err[512];

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < 2; i++) {
		int r = blk_find_part(e->sysfs, vols[i].label, &parts[i], err, sizeof(err));
		if (r != 0) {
			outcome(&res->ephemeral_v, "missing", "booted from a disk, but %s: the config and /var are kept in memory",
				r > 0 ? "no partition is named STATE or EPHEMERAL" : err);
			res->state_v = res->ephemeral_v;
			return;
		}
	}
	if (strcmp(parts[0].disk, parts[1].disk) != 0) {
		outcome(&res->ephemeral_v, "refused",
			"STATE is on %s but EPHEMERAL on %s: not one system disk, neither is used; the config and /var are "
			"kept in memory",
			parts[1].disk, parts[0].disk);
		res->state_v = res->ephemeral_v;
		return;
	}
	snprintf(res->disk, sizeof(res->disk), "%s", parts[0].disk);
	res->ephemeral = volume_up(e, &vols[0], &parts[0], &res->ephemeral_v) == 0;
	res->state = volume_up(e, &vols[1], &parts[1], &res->state_v) == 0;
}

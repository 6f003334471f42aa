/* SPDX-License-Identifier: MIT */
/*
 * VolumeController: block/Volume/<LABEL> for the system disk's partitions (found by their
 * GPT names in sysfs) with what became of STATE and EPHEMERAL at boot (machined/disk/
 * volumes.c), and block/MountStatus/<mount point> for the system's own trees and the
 * system disk's partitions (/proc/self/mountinfo). Looked at again every few seconds.
 * Only on a machine: in a container the disks and mounts are the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/block.pb-c.h"
#include "lib/atomicfile.h"
#include "lib/mountinfo.h"
#include "machined/ctrl/controllers.h"
#include "machined/disk/blockdev.h"
#include "machined/disk/volumes.h"

#define RESCAN_MS 5000
#define MOUNTINFO_MAX (1u << 20)
#define NLABELS 6

static const char *const labels[NLABELS] = { "EFI", "BIOS", "BOOT", "META", "STATE", "EPHEMERAL" };
/* The system's own trees: always shown, whatever is mounted there. */
static const char *const trees[] = { "/", "/system", "/system/state", "/var" };

struct volumes {
	struct rt_ctrl *self;
	struct loop *loop;
	struct loop_timer rescan;
	const char *sysfs;
	const struct volumes_result *boot;  /* NULL: not booted from the disk */
	bool machine;
};

static const struct rt_output outputs[] = { { RES(MOUNT_STATUS), RT_EXCLUSIVE }, { RES(VOLUME), RT_EXCLUSIVE } };

/* Mount points by source device (the last mount of a device wins: the one in use). */
struct mounts {
	struct mount_entry *e;
	size_t n;
};

static void mounts_read(struct mounts *m)
{
	char *text = NULL;
	size_t len = 0, off = 0, cap = 0;

	m->e = NULL;
	m->n = 0;
	if (read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &text, &len) < 0)
		return;
	for (int r = 0; r >= 0;) {
		if (m->n == cap) {
			struct mount_entry *ne = realloc(m->e, (cap = cap ? cap * 2 : 32) * sizeof(*ne));

			if (!ne)
				break;
			m->e = ne;
		}
		if ((r = mountinfo_next(text, len, &off, &m->e[m->n])) > 0)
			m->n++;
	}
	free(text);
}

/* The last mount whose source is dev, or NULL. */
static const struct mount_entry *mount_of(const struct mounts *m, const char *dev)
{
	for (size_t i = m->n; i-- > 0;)
		if (strcmp(m->e[i].source, dev) == 0)
			return &m->e[i];
	return NULL;
}

static bool has_opt(const char *opts, const char *o)
{
	size_t ol = strlen(o);

	for (const char *p = opts; p && *p;) {
		size_t l = strcspn(p, ",");

		if (l == ol && memcmp(p, o, ol) == 0)
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

static int apply_mount(struct rt_ctx *ctx, const struct mount_entry *e, const char *volume)
{
	Basalt__Block__MountStatus *ms = malloc(sizeof(*ms));

	if (!ms)
		return -ENOMEM;
	basalt__block__mount_status__init(ms);
	ms->source = strdup(e->source);
	ms->target = strdup(e->point);
	ms->filesystemtype = strdup(e->fstype);
	ms->options = strdup(e->options);
	ms->readonly = has_opt(e->options, "ro");
	ms->volume = strdup(volume);
	return rt_apply(ctx, res_new(RES(MOUNT_STATUS), e->point, &ms->base));
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct volumes *s = arg;
	struct blk_part parts[NLABELS];
	bool found[NLABELS] = { false };
	struct mounts m;
	char err[256], dev[64], ps[32];
	int r = 0;

	if (!s->machine)
		return 0;
	loop_timer_arm(s->loop, &s->rescan, RESCAN_MS);
	mounts_read(&m);
	for (size_t i = 0; i < NLABELS; i++)
		found[i] = blk_find_part(s->sysfs, labels[i], &parts[i], err, sizeof(err)) == 0;
	for (size_t i = 0; i < NLABELS && r == 0; i++) {
		Basalt__Block__Volume *v;
		const struct volume_outcome *o = NULL;
		const struct mount_entry *me;
		const char *fs = NULL;
		bool sys = strcmp(labels[i], "STATE") == 0 || strcmp(labels[i], "EPHEMERAL") == 0;

		if (s->boot)
			o = strcmp(labels[i], "STATE") == 0 ? &s->boot->state_v : strcmp(labels[i], "EPHEMERAL") == 0 ? &s->boot->ephemeral_v : NULL;
		if (!found[i] && !sys)
			continue;
		if (!(v = malloc(sizeof(*v)))) {
			r = -ENOMEM;
			break;
		}
		basalt__block__volume__init(v);
		if (!found[i]) {
			v->phase = strdup(o && o->phase[0] ? o->phase : "missing");
			v->message = strdup(o && o->message[0] ? o->message
						 : "no such partition: booted from media (ISO or PXE), the config and /var are in memory");
			r = rt_apply(ctx, res_new(RES(VOLUME), labels[i], &v->base));
			continue;
		}
		snprintf(dev, sizeof(dev), "/dev/%.31s", parts[i].name);
		v->devpath = strdup(dev);
		snprintf(dev, sizeof(dev), "/dev/%.31s", parts[i].disk);
		v->disk = strdup(dev);
		v->size = parts[i].size;
		blk_pretty_size(parts[i].size, ps, sizeof(ps));
		v->prettysize = strdup(ps);
		if (blk_probe_dev(v->devpath, &fs, err, sizeof(err)) < 0)
			fs = "unreadable";
		v->filesystem = strdup(fs && strcmp(fs, "data") != 0 ? fs : fs ? "unknown data" : "");
		me = mount_of(&m, v->devpath);
		v->mountpoint = strdup(me ? me->point : "");
		if (o && o->phase[0]) {
			v->phase = strdup(o->phase);
			v->message = strdup(o->message);
		} else {
			v->phase = strdup("located");
			v->message = strdup(sys ? "not used on this boot (booted from media: the config and /var are in memory)" : "");
		}
		r = rt_apply(ctx, res_new(RES(VOLUME), labels[i], &v->base));
	}
	for (size_t i = 0; i < m.n && r == 0; i++) {
		const struct mount_entry *e = &m.e[i];
		const char *vol = "";
		bool want = false;

		for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++)
			want |= strcmp(e->point, trees[t]) == 0;
		for (size_t k = 0; k < NLABELS; k++) {
			if (!found[k])
				continue;
			snprintf(dev, sizeof(dev), "/dev/%.31s", parts[k].name);
			if (strcmp(e->source, dev) == 0)
				vol = labels[k], want = true;
		}
		/* A point mounted over again (the last mount is the one seen) is shown once. */
		for (size_t j = i + 1; j < m.n && want; j++)
			want = strcmp(m.e[j].point, e->point) != 0;
		if (want)
			r = apply_mount(ctx, e, vol);
	}
	free(m.e);
	return r;
}

static void on_rescan(void *arg)
{
	rt_kick(((struct volumes *)arg)->self);
}

static int init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct volumes *s = state;

	s->self = self;
	s->loop = env->loop;
	s->sysfs = env->sysfs;
	s->machine = env->machine;
	s->boot = env->from_disk ? env->volumes : NULL;
	loop_timer_init(&s->rescan, on_rescan, s);
	return 0;
}

static void fini(void *state)
{
	struct volumes *s = state;

	if (s->loop)
		loop_timer_cancel(s->loop, &s->rescan);
}

const struct ctrl_def ctrl_volumes = {
	.rt = { .name = "VolumeController", .outputs = outputs, .noutputs = 2, .reconcile = reconcile },
	.state_size = sizeof(struct volumes),
	.init = init,
	.fini = fini,
	.touches_machine = true,
};

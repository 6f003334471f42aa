/* SPDX-License-Identifier: MIT */
/*
 * DiskController: block/Disk/<name> for every whole disk sysfs lists (machined/disk/),
 * looked at again every few seconds (a disk plugged in shows up; one removed goes). Only
 * on a machine: in a container the disks sysfs shows are the host's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/block.pb-c.h"
#include "machined/ctrl/controllers.h"
#include "machined/disk/blockdev.h"

#define RESCAN_MS 5000

struct disks {
	struct rt_ctrl *self;
	struct loop *loop;
	const char *sysfs;
	struct loop_timer rescan;
	bool machine;
};

static const struct rt_output outputs[] = { { RES(DISK), RT_EXCLUSIVE } };

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct disks *s = arg;
	static struct blk_disk d[BLK_MAX_DISKS];
	char err[256], ps[32], dev[64];
	int n;

	/* A container or a test run by hand lists none: the host's disks are not its own. */
	if (!s->machine)
		return 0;
	n = blk_list_disks(s->sysfs, d, BLK_MAX_DISKS, err, sizeof(err));
	loop_timer_arm(s->loop, &s->rescan, RESCAN_MS);
	if (n < 0)
		return rt_fail(ctx, "%s", err);
	for (int i = 0; i < n; i++) {
		Basalt__Block__Disk *k = malloc(sizeof(*k));
		int r;

		if (!k)
			return -ENOMEM;
		basalt__block__disk__init(k);
		blk_pretty_size(d[i].size, ps, sizeof(ps));
		snprintf(dev, sizeof(dev), "/dev/%.31s", d[i].name);
		k->size = d[i].size;
		k->prettysize = strdup(ps);
		k->model = strdup(d[i].model);
		k->serial = strdup(d[i].serial);
		k->transport = strdup(d[i].transport);
		k->rotational = d[i].rotational;
		k->readonly = d[i].readonly;
		k->buspath = strdup(d[i].bus_path);
		k->type = strdup(d[i].type);
		k->wwid = strdup(d[i].wwid);
		k->modalias = strdup(d[i].modalias);
		k->devpath = strdup(dev);
		if ((r = rt_apply(ctx, res_new(RES(DISK), d[i].name, &k->base))) < 0)
			return r;
	}
	return 0;
}

static void on_rescan(void *arg)
{
	rt_kick(((struct disks *)arg)->self);
}

static int init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct disks *s = state;

	s->self = self;
	s->loop = env->loop;
	s->sysfs = env->sysfs;
	s->machine = env->machine;
	loop_timer_init(&s->rescan, on_rescan, s);
	return 0;
}

static void fini(void *state)
{
	struct disks *s = state;

	if (s->loop)
		loop_timer_cancel(s->loop, &s->rescan);
}

const struct ctrl_def ctrl_disks = {
	.rt = { .name = "DiskController", .outputs = outputs, .noutputs = 1, .reconcile = reconcile },
	.state_size = sizeof(struct disks),
	.init = init,
	.fini = fini,
	.touches_machine = true,
};

/* SPDX-License-Identifier: MIT */
/*
 * qemu: a machine config handed over by QEMU's firmware config device
 * (`-fw_cfg name=opt/org.basalt/config,file=controlplane.yaml`), read from sysfs once the
 * qemu_fw_cfg module has shown it (the module may still be loading when machined starts:
 * looked for again for a few seconds). Detected by the DMI vendor QEMU. A config that
 * does not apply is said; the node then waits in maintenance mode (the entry does not
 * change while the machine runs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/log.h"
#include "machined/platform/platform.h"

#define QEMU_CONFIG_MAX (1u << 20)
#define QEMU_ENTRY "firmware/qemu_fw_cfg/by_name/opt/org.basalt/config/raw"
#define QEMU_LOOKS 20      /* for the device: 20 times, 500 ms apart */
#define QEMU_LOOK_MS 500


static bool qemu_detect(const struct platform_env *env)
{
	char vendor[64];

	return platform_sysfs_line(env, "class/dmi/id/sys_vendor", vendor, sizeof(vendor)) == 0 &&
	       strcmp(vendor, "QEMU") == 0;
}

static void look(void *arg)
{
	struct platform_looker *q = arg;
	const struct platform_env *env = &q->p->env;
	char dev[512], entry[512], why[768], *text = NULL;
	size_t len = 0;
	int r;

	if (env->configured && env->configured(env->arg))
		return;
	snprintf(dev, sizeof(dev), "%s/firmware/qemu_fw_cfg", env->sysfs);
	snprintf(entry, sizeof(entry), "%s/" QEMU_ENTRY, env->sysfs);
	if (access(dev, F_OK) != 0) {
		if (++q->looks < QEMU_LOOKS) {
			loop_timer_arm(env->loop, &q->timer, QEMU_LOOK_MS);
			return;
		}
		log_console("qemu: no firmware config device (%s): maintenance mode", dev);
		return;
	}
	if ((r = read_file(entry, QEMU_CONFIG_MAX, &text, &len)) < 0) {
		if (r == -ENOENT)
			log_console("qemu: no machine config in the firmware config device (QEMU's -fw_cfg "
				    "name=opt/org.basalt/config,file=FILE gives one): maintenance mode");
		else
			log_console("qemu: the machine config in fw_cfg (%s): %s: maintenance mode", entry,
				    r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return;
	}
	if (env->on_config(env->arg, "platform", text, len, why, sizeof(why)) < 0)
		log_console("qemu: the machine config in fw_cfg (opt/org.basalt/config, %zu bytes) %s: maintenance mode", len,
			    why);
	else
		log_console("qemu: machine config from fw_cfg opt/org.basalt/config applied (%zu bytes)", len);
	free(text);
}

static int qemu_start(struct platform_ctx *p, char *err, size_t errlen)
{
	return platform_looker_start(p, look, NULL, err, errlen);
}

const struct platform_ops platform_qemu = {
	.name = "qemu",
	.detect = qemu_detect,
	.start = qemu_start,
	.stop = platform_looker_stop,
};

/* SPDX-License-Identifier: MIT */
/*
 * InstallController: machine.install on a node booted from the ISO. It picks the disk
 * (install.disk, or the first disk install.diskSelector matches), refuses one that holds
 * a partition table or a filesystem unless install.wipe is true (saying so on the console,
 * in runtime/InstallStatus and, through it, ConfigStatus), runs `machined install-disk` to
 * write it (machined/disk/install.c), and reboots into the installed system. Nodes booted
 * from their disk, and nodes that are not machines, install nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/init.pb-c.h"
#include "api/runtime.pb-c.h"
#include "lib/log.h"
#include "lib/spawn.h"
#include "machined/ctrl/config.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/ctrl_init.h"
#include "machined/disk/blockdev.h"
#include "machined/disk/install.h"
#include "machined/disk/select.h"

enum phase { IDLE, INSTALLING, INSTALLED, FAILED };

struct install {
	struct rt_ctrl *self;
	struct ctrl_env env;   /* a copy: the one given to init does not outlive it */
	struct loop *loop;
	enum phase phase;
	char disk[64];
	char said[1024];       /* the last refusal or failure on the console (said once) */
	char last_line[512];   /* the installer's last line */
	char failed_sha[65];   /* the config a failed install was for: another one tries again */
	pid_t pid;
	int out;               /* the installer's output */
	struct loop_watch *watch;
	char buf[1024];
	size_t used;
};

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(INSTALL_STATUS), RT_EXCLUSIVE } };

static int status(struct rt_ctx *ctx, const char *state, const char *disk, const char *msg)
{
	Basalt__Runtime__InstallStatus *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	basalt__runtime__install_status__init(s);
	s->state = strdup(state);
	s->disk = strdup(disk ? disk : "");
	s->message = strdup(msg ? msg : "");
	return rt_apply(ctx, res_new(RES(INSTALL_STATUS), "install", &s->base));
}

/* Says msg on the console once (a reconcile that finds the same again is quiet). */
static void say_once(struct install *s, const char *msg)
{
	if (strcmp(s->said, msg) == 0)
		return;
	snprintf(s->said, sizeof(s->said), "%s", msg);
	log_console("install: %s", msg);
}

static void on_reboot_reply(void *arg, int error, const char *message)
{
	(void)arg;
	if (error)
		log_console("install: init refused the reboot: %s", message);
}

static void installer_done(struct install *s)
{
	int st = 0;

	loop_watch_del(s->loop, s->watch);
	s->watch = NULL;
	close(s->out);
	s->out = -1;
	while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		s->phase = INSTALLED;
		log_console("install: Basalt is installed on %s: rebooting into it", s->disk);
		if (initctrl_power(s->env.init, BASALT__INIT__POWER_ACTION__POWER_REBOOT, NULL, 0, on_reboot_reply, s) < 0)
			log_console("install: cannot reach init to reboot: reboot the machine to boot from %s", s->disk);
	} else {
		s->phase = FAILED;
		snprintf(s->failed_sha, sizeof(s->failed_sha), "%s", s->env.config->sha256);
		if (!s->last_line[0])
			snprintf(s->last_line, sizeof(s->last_line), "the installer %s", WIFEXITED(st) ? "failed" : "was killed");
		log_console("install: onto %s failed: %s", s->disk, s->last_line);
	}
	rt_kick(s->self);
}

/* The installer's output: its lines are on the console already; the last is kept. */
static void on_output(void *arg, uint32_t events)
{
	struct install *s = arg;
	ssize_t n = read(s->out, s->buf + s->used, sizeof(s->buf) - 1 - s->used);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		installer_done(s);
		return;
	}
	s->used += (size_t)n;
	s->buf[s->used] = '\0';
	char *nl;
	while ((nl = strchr(s->buf, '\n'))) {
		*nl = '\0';
		/* "[machined-install] install: ..." as log lines print: keep what it said. */
		const char *text = strstr(s->buf, "] ") ? strstr(s->buf, "] ") + 2 : s->buf;
		if (*text)
			snprintf(s->last_line, sizeof(s->last_line), "%.511s", text);
		s->used -= (size_t)(nl + 1 - s->buf);
		memmove(s->buf, nl + 1, s->used + 1);
	}
	if (s->used == sizeof(s->buf) - 1)
		s->used = 0;
}

static int start_installer(struct install *s, const char *medium, char *err, size_t errlen)
{
	char *argv[] = { s->env.specs->self_argv[0], "install-disk", s->disk, "--medium", (char *)medium,
			 "--state-dir", s->env.config->state_dir, NULL };
	extern char **environ;
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	struct spawn_opts o = { .argv = argv, .envp = environ, .stdin_fd = -1, .stdout_fd = pfd[1], .stderr_fd = -1 };
	if (spawn(&o, &s->pid, err, errlen) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[1]);
	s->out = pfd[0];
	fcntl(s->out, F_SETFL, O_NONBLOCK);
	s->used = 0;
	s->last_line[0] = '\0';
	if (loop_watch_add(s->loop, s->out, EPOLLIN, on_output, s, &s->watch) < 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		close(s->out);
		s->pid = 0;
		return snprintf(err, errlen, "cannot watch the installer"), -1;
	}
	return 0;
}

/* What the disk holds: NULL when blank, else a description in buf. */
static const char *holds(const char *name, char *buf, size_t len)
{
	char dev[96], err[256];
	const char *what = NULL;

	snprintf(dev, sizeof(dev), "/dev/%s", name);
	if (blk_probe_dev(dev, &what, err, sizeof(err)) < 0) {
		snprintf(buf, len, "something unreadable (%.100s)", err);
		return buf;
	}
	if (!what)
		return NULL;
	snprintf(buf, len, !strcmp(what, "gpt") || !strcmp(what, "mbr") ? "a partition table (%s)" : "data (%s)", what);
	return buf;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct install *s = arg;
	const struct ctrl_env *env = &s->env;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Install *in = cfg && cfg->machine ? cfg->machine->install : NULL;
	static struct blk_disk disks[BLK_MAX_DISKS];
	char err[1024], what[160] = "", medium[512];
	int n, i;

	if (s->phase == INSTALLING)
		return status(ctx, "installing", s->disk, "writing the disk");
	if (s->phase == INSTALLED)
		return status(ctx, "installed", s->disk, "rebooting into the installed system");
	if (!in || (!in->disk && !in->diskselector))
		return status(ctx, "not-needed", NULL, "machine.install names no disk");
	if (env->from_disk)
		return status(ctx, "installed", NULL, "booted from the system disk");
	if (!env->machine)
		return status(ctx, "not-needed", NULL, "not a machine (a container, or machined run by hand): nothing is installed");
	if (s->phase == FAILED && strcmp(s->failed_sha, env->config->sha256) == 0)
		return status(ctx, "failed", s->disk, s->last_line);
	s->phase = IDLE;
	if ((n = blk_list_disks(env->sysfs, disks, BLK_MAX_DISKS, err, sizeof(err))) < 0)
		return rt_fail(ctx, "install: %s", err);
	if (in->disk) {
		struct disk_selector sel = { .name = in->disk };
		i = disk_select(disks, (size_t)n, &sel, err, sizeof(err));
		if (i < 0)
			snprintf(err, sizeof(err), "machine.install.disk %s: no such disk", in->disk);
	} else {
		const Basalt__Config__DiskSelector *ds = in->diskselector;
		struct disk_selector sel = { .size = ds->size, .name = ds->name, .model = ds->model, .serial = ds->serial,
					     .type = ds->type, .bus_path = ds->buspath, .modalias = ds->modalias, .wwid = ds->wwid };
		i = disk_select(disks, (size_t)n, &sel, err, sizeof(err));
	}
	if (i < 0) {
		say_once(s, err);
		status(ctx, "waiting", NULL, err);
		return rt_fail(ctx, "%s", err);
	}
	snprintf(s->disk, sizeof(s->disk), "/dev/%s", disks[i].name);
	if (holds(disks[i].name, what, sizeof(what)) && !(in->has_wipe && in->wipe)) {
		snprintf(err, sizeof(err), "%s holds %s: not installing over it without machine.install.wipe: true", s->disk, what);
		say_once(s, err);
		return status(ctx, "refused", s->disk, err);
	}
	bool on_medium = disk_find_medium(env->sysfs, "/dev", disks[i].name, medium, sizeof(medium)) == 0;

	if (!on_medium && !s->env.install_source) {
		snprintf(err, sizeof(err), "no Basalt boot medium (the ISO, volume BASALT) to install from, and no "
					   "basalt.install.source= (a PXE boot through osctl pxe serve names one)");
		say_once(s, err);
		return status(ctx, "failed", s->disk, err);
	}
	if (!on_medium)  /* a PXE boot: the medium's files from the provisioning server */
		snprintf(medium, sizeof(medium), "%s", s->env.install_source);
	log_console("install: installing onto %s (%s, %s) from %s", s->disk, disks[i].model[0] ? disks[i].model : "no model",
		    what[0] && in->wipe ? "wiping what it held" : "blank", medium);
	if (start_installer(s, medium, err, sizeof(err)) < 0) {
		s->phase = FAILED;
		snprintf(s->failed_sha, sizeof(s->failed_sha), "%s", env->config->sha256);
		snprintf(s->last_line, sizeof(s->last_line), "%.511s", err);
		return status(ctx, "failed", s->disk, err);
	}
	s->phase = INSTALLING;
	return status(ctx, "installing", s->disk, "writing the disk");
}

static int init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct install *s = state;

	s->self = self;
	s->env = *env;
	s->loop = env->loop;
	s->out = -1;
	return 0;
}

static void fini(void *state)
{
	struct install *s = state;

	if (s->watch)
		loop_watch_del(s->loop, s->watch);
	if (s->out >= 0)
		close(s->out);
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
}

const struct ctrl_def ctrl_install = {
	.rt = { .name = "InstallController", .inputs = inputs, .ninputs = 1, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
	.state_size = sizeof(struct install),
	.init = init,
	.fini = fini,
	.touches_machine = true,
};

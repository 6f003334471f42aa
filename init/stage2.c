/* SPDX-License-Identifier: MIT */
#include "init/stage2.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "init/ctl.h"
#include "init/modload.h"
#include "init/power.h"
#include "init/shutdown.h"
#include "init/supervisor.h"
#include "lib/log.h"
#include "lib/loop.h"

struct init_state {
	const struct init_opts *opts;
	struct loop *loop;
	struct supervisor sup;
	struct ctl_server ctl;
	struct shutdown sd;
	struct power_watch pw;
	bool all_up_logged;
};

static struct init_state st;

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		log_warn("write %s", path);
	if (fd >= 0)
		close(fd);
}

/* With basalt.debug=1, what the machine was set up with: every mount and the kernel's
 * module helper, as the kernel reports them back. */
static void log_setup(void)
{
	char line[512], helper[128] = "";
	FILE *f;

	if (!log_debug_enabled())
		return;
	f = fopen("/proc/self/mounts", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char dev[128], dir[256], type[64], opts[256];

		if (sscanf(line, "%127s %255s %63s %255s", dev, dir, type, opts) == 4)
			log_debug("mount: %s on %s type %s (%.*s)", dev, dir, type, (int)strcspn(opts, ","), opts);
	}
	if (f)
		fclose(f);
	f = fopen("/proc/sys/kernel/modprobe", "re");
	if (f && fgets(helper, sizeof(helper), f))
		helper[strcspn(helper, "\n")] = '\0';
	if (f)
		fclose(f);
	log_debug("kernel module helper: %s", helper[0] ? helper : "(none)");
}

/* What a real boot needs before services run; container mode skips all of it. */
static void system_setup(void)
{
	struct statfs sfs;

	if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate") < 0)
			log_warn("mount cgroup2 on /sys/fs/cgroup");
	}
	/* The kernel runs this for on-demand modules (netlink families, link kinds). */
	write_file("/proc/sys/kernel/modprobe", "/sbin/modprobe");
	/* Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot. */
	reboot(RB_DISABLE_CAD);
	modload_boot("stage 2", "/etc/basalt/modules.load");
	log_setup();
}

/* Our resident set size in KiB, from /proc/self/statm (pages). */
static unsigned long self_rss_kib(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (unsigned long)(sysconf(_SC_PAGESIZE) / 1024);
}

static bool all_up(const struct supervisor *sup)
{
	if (sup->nsvcs < 2)
		return false;
	for (size_t i = 0; i < sup->nsvcs; i++)
		if (sup->svcs[i]->wanted && sup->svcs[i]->state != SVC_RUNNING)
			return false;
	return true;
}

static void on_changed(void *arg, struct svc *s)
{
	struct init_state *is = arg;

	ctl_service_changed(&is->ctl, s);
	if (!is->all_up_logged && all_up(&is->sup)) {
		is->all_up_logged = true;
		log_info("all services up at %llu ms of uptime (%zu services, init RSS %lu KiB)",
			 (unsigned long long)boot_ms(), is->sup.nsvcs, self_rss_kib());
	}
}

static void on_log(void *arg, struct svc *s)
{
	struct init_state *is = arg;

	ctl_service_log(&is->ctl, s);
}

static void on_all_down(void *arg)
{
	struct init_state *is = arg;

	shutdown_services_down(&is->sd);
}

static void on_shutdown_begins(void *arg, enum shutdown_action action)
{
	struct init_state *is = arg;

	ctl_notify_shutdown(&is->ctl, (int)action);
}

static void on_power_request(void *arg, int action, char *const *wipe, size_t nwipe)
{
	struct init_state *is = arg;

	shutdown_begin_wipe(&is->sd, (enum shutdown_action)action, "control socket", wipe, nwipe);
}

static void on_power_button(void *arg)
{
	struct init_state *is = arg;

	shutdown_begin(&is->sd, SHUTDOWN_POWEROFF, "power button");
}

static void on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct init_state *is = arg;

	switch (si->ssi_signo) {
	case SIGCHLD:
		supervisor_reap(&is->sup);
		shutdown_child_reaped(&is->sd);
		break;
	case SIGTERM:
		shutdown_begin(&is->sd, SHUTDOWN_POWEROFF, "SIGTERM");
		break;
	case SIGPWR:
		shutdown_begin(&is->sd, SHUTDOWN_POWEROFF, "SIGPWR");
		break;
	case SIGINT:
		shutdown_begin(&is->sd, SHUTDOWN_REBOOT, "SIGINT (ctrl-alt-del)");
		break;
	default:
		log_info("ignoring signal %u from pid %u", si->ssi_signo, si->ssi_pid);
		break;
	}
}

/*
 * BASALT_CONSOLE for machined: every console the kernel writes to (console=tty0
 * console=ttyS0 gives "/dev/ttyS0:/dev/tty0", from /proc/consoles), so what a person must
 * read reaches the screen and the serial line alike; /dev/console when the list is unknown.
 */
static void console_env(char *buf, size_t len)
{
	char line[256], name[64];
	size_t n = (size_t)snprintf(buf, len, "BASALT_CONSOLE=");
	size_t first = n;
	FILE *f = fopen("/proc/consoles", "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s", name) != 1 || strchr(name, '/') || n + strlen(name) + 7 >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s/dev/%s", n > first ? ":" : "", name);
	}
	if (f)
		fclose(f);
	if (n == first)
		snprintf(buf + n, len - n, "/dev/console");
}

static int core_spec(const struct init_opts *o, struct spec *s, char *err, size_t errlen)
{
	Basalt__Init__ServiceSpec pb = BASALT__INIT__SERVICE_SPEC__INIT;
	char env[160], console[160], machine[] = "BASALT_MACHINE=1";
	char *envv[] = { env, console, machine };
	size_t argc = 0;

	console_env(console, sizeof(console));

	while (o->core_argv[argc])
		argc++;
	snprintf(env, sizeof(env), "BASALT_INIT_SOCKET=%s", o->socket);
	pb.id = INIT_CORE_ID;
	pb.argv = o->core_argv;
	pb.n_argv = argc;
	pb.env = envv;
	/* On a real machine machined may write what a person must see to the console, and owns
	 * the network (in a container the host or the engine does). */
	pb.n_env = o->container ? 1 : 3;
	pb.log_ring_bytes = 256u << 10;
	return spec_from_pb(s, &pb, err, errlen);
}

static void setup(const struct init_opts *o)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGHUP, SIGUSR1, SIGUSR2 };
	struct supervisor_hooks hooks = { on_changed, on_log, on_all_down, &st };
	struct cgroup_tree cg;
	struct spec core;
	char err[256];
	int r;

	st.opts = o;
	if (loop_new(&st.loop) < 0)
		fatal("create event loop");  /* nothing has started yet */
	/* Signals first: a core service that dies at once must not be missed. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		loop_signal(st.loop, sigs[i], on_signal, &st);
	r = cgroup_tree_init(&cg, o->cgroup_mount, o->cgroup_root);
	if (r < 0) {
		log_warnx("cgroups unavailable under %s: %s; services share init's cgroup",
			  o->cgroup_mount, strerror(-r));
		memset(&cg, 0, sizeof(cg));
	}
	ctl_init(&st.ctl, st.loop, &st.sup, on_power_request, &st);
	shutdown_init(&st.sd, st.loop, &st.sup, o->container);
	st.sd.before_stop = on_shutdown_begins;
	st.sd.before_stop_arg = &st;
	if (ctl_listen(&st.ctl, o->socket, err, sizeof(err)) < 0)
		log_warnx("%s; machined will not reach init", err);
	if (core_spec(o, &core, err, sizeof(err)) < 0 ||
	    supervisor_init(&st.sup, st.loop, &cg, &core, &hooks) < 0)
		log_warnx("core service: %s", err);
	st.sup.echo_logs = o->debug;
	if (!o->container) {
		r = power_watch_start(&st.pw, st.loop, "/dev/input", on_power_button, &st);
		if (r <= 0)
			log_info("no power button found (%s)", r < 0 ? strerror(-r) : "none has KEY_POWER");
	}
}

void stage2_main(const struct init_opts *o)
{
	log_set_debug(o->debug);
	signal(SIGPIPE, SIG_IGN);
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("become child subreaper");
	if (!o->container)
		system_setup();
	setup(o);
	log_info("stage 2: supervising as pid %d%s, control socket %s", (int)getpid(),
		 o->container ? " (container mode)" : "", o->socket);
	/* PID 1 must not exit: an epoll failure is reported and the loop entered again. */
	for (;;) {
		int r = loop_run(st.loop);

		log_warnx("event loop: %s", strerror(-r));
	}
}

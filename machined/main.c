/* SPDX-License-Identifier: MIT */
/*
 * machined: the resource store and its controllers, driven by the machine config.
 *   machined [--state-dir DIR] [--init-socket PATH] [--containerd PATH]
 *            [--containerd-config PATH] [--root DIR] [--api-listen ADDR:PORT]
 *            [--host-netns DEV:INODE] [--cmdline FILE] [--sysfs DIR] [--var-dir DIR]
 *                                                            run, supervised by init
 *   machined validate FILE [--config-patch FILE]...          check a config
 *   machined render FILE [--config-patch FILE]... [-o yaml|json]
 *                                                            the resources a config gives
 *   machined install-config FILE [--config-patch FILE]... [--state-dir DIR]
 *                                                            persist a config for the next start
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/cmdline.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "machined/api/api.h"
#include "machined/ctrl/cfgstate.h"
#include "machined/ctrl/config.h"
#include "machined/ctrl/controllers.h"
#include "machined/ctrl/netguard.h"
#include "machined/ctrl/ctrl.h"
#include "machined/ctrl/ctrl_init.h"
#include "machined/core/resfmt.h"
#include "lib/rng.h"
#include "machined/disk/install.h"
#include "machined/disk/volumes.h"
#include "machined/platform/platform.h"

#define STATE_DIR_DEFAULT "/system/state"
#define SOCKET_DEFAULT "/run/basalt/init.sock"
#define MAX_PATCHES 16

struct opts {
	const char *state_dir;
	const char *socket;
	const char *containerd;
	const char *containerd_config;
	const char *root;
	const char *api_listen;
	const char *host_netns;     /* the host's network namespace, "dev:inode", from a launcher that knows it */
	const char *cmdline;        /* the kernel command line to read: /proc/cmdline unless a test gives one */
	const char *sysfs;          /* where sysfs is: /sys unless a test gives a copy */
	const char *medium;         /* install-disk: the boot medium's device */
	const char *var_dir;        /* /var unless a test gives another: machine.files, Read, List */
	unsigned signed_lifetime_s; /* tests: the life of what this node signs (0: 30 days, 12 hours) */
	const char *file;
	const char *patch_files[MAX_PATCHES];
	size_t npatches;
	bool json;
	char **argv;
};

struct machined {
	struct opts *o;
	struct loop *loop;
	struct store *st;
	struct rt *rt;
	struct config_holder config;
	struct machine_status status;
	struct service_specs specs;
	struct initctrl init;
	struct api api;
	struct platform_ctx platform;
	struct volumes_result volumes;
	struct platform_status platform_status;
	bool from_disk;             /* basalt.boot=disk */
	bool api_up;
	bool machine;               /* init says this is a real machine (not a container) */
	const char *cmdline_ip;
	const char *install_source;
	const char *net_refused;    /* NULL, or why the network here is not machined's to change */
	char net_refused_buf[320];
	char system_dir[512];
	struct loop_timer stop;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: machined [--state-dir DIR] [--init-socket PATH] [--containerd PATH]\n"
		   "                [--containerd-config PATH] [--root DIR] [--api-listen ADDR:PORT]\n"
		   "                [--host-netns DEV:INODE] [--cmdline FILE] [--sysfs DIR] [--var-dir DIR]\n"
		   "                [--signed-lifetime SECONDS]   (tests: workers' certificates and the\n"
		   "                forwarding certificate this node signs live that long, not 30 days and 12 hours)\n"
		   "       machined validate FILE [--config-patch FILE]...\n"
		   "       machined render FILE [--config-patch FILE]... [-o yaml|json]\n"
		   "       machined install-config FILE [--config-patch FILE]... [--state-dir DIR]\n"
		   "       machined install-disk DISK --medium DEV [--state-dir DIR]   (what InstallController runs)\n");
}

static int parse_opts(int argc, char **argv, int first, struct opts *o)
{
	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v && a[0] == '-') {
			fprintf(stderr, "machined: %s needs a value\n", a);
			return -1;
		}
		if (strcmp(a, "--state-dir") == 0)
			o->state_dir = argv[++i];
		else if (strcmp(a, "--init-socket") == 0)
			o->socket = argv[++i];
		else if (strcmp(a, "--api-listen") == 0)
			o->api_listen = argv[++i];
		else if (strcmp(a, "--host-netns") == 0)
			o->host_netns = argv[++i];
		else if (strcmp(a, "--cmdline") == 0)
			o->cmdline = argv[++i];
		else if (strcmp(a, "--medium") == 0)
			o->medium = argv[++i];
		else if (strcmp(a, "--sysfs") == 0)
			o->sysfs = argv[++i];
		else if (strcmp(a, "--var-dir") == 0)
			o->var_dir = argv[++i];
		else if (strcmp(a, "--signed-lifetime") == 0) {
			char *end;
			unsigned long n = strtoul(argv[++i], &end, 10);

			if (*end || n < 6 || n > 86400) {
				fprintf(stderr, "machined: --signed-lifetime: %s is not a number of seconds from 6 to 86400\n",
					argv[i]);
				return -1;
			}
			o->signed_lifetime_s = (unsigned)n;
		}
		else if (strcmp(a, "--containerd") == 0)
			o->containerd = argv[++i];
		else if (strcmp(a, "--containerd-config") == 0)
			o->containerd_config = argv[++i];
		else if (strcmp(a, "--root") == 0)
			o->root = argv[++i];
		else if (strcmp(a, "--config-patch") == 0 && o->npatches < MAX_PATCHES)
			o->patch_files[o->npatches++] = argv[++i];
		else if (strcmp(a, "-o") == 0)
			o->json = strcmp(argv[++i], "json") == 0;
		else if (a[0] != '-' && !o->file)
			o->file = a;
		else {
			fprintf(stderr, "machined: unexpected argument %s\n", a);
			return -1;
		}
	}
	return 0;
}

/* --- the config from files, for the one-shot commands --- */

struct loaded {
	char *text;
	size_t len;
	char *ptext[MAX_PATCHES];
	struct mconfig_patch patches[MAX_PATCHES];
};

static int read_inputs(const struct opts *o, struct loaded *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	if (!o->file) {
		fprintf(stderr, "machined: which config file?\n");
		return -EINVAL;
	}
	r = read_file(o->file, 1u << 20, &l->text, &l->len);
	if (r < 0) {
		fprintf(stderr, "machined: read %s: %s\n", o->file, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < o->npatches; i++) {
		r = read_file(o->patch_files[i], 1u << 20, &l->ptext[i], &l->patches[i].len);
		if (r < 0) {
			fprintf(stderr, "machined: read %s: %s\n", o->patch_files[i], strerror(-r));
			return r;
		}
		l->patches[i].text = l->ptext[i];
		l->patches[i].name = o->patch_files[i];
	}
	return 0;
}

static void free_inputs(struct loaded *l)
{
	free(l->text);
	for (size_t i = 0; i < MAX_PATCHES; i++)
		free(l->ptext[i]);
}

static void print_diag(struct diag *d)
{
	char *text = diag_format(d);

	fputs(text ? text : "out of memory\n", stderr);
	free(text);
}

static int cmd_validate(const struct opts *o)
{
	struct loaded l;
	struct diag d;
	Basalt__Config__Config *cfg = NULL;
	int r = read_inputs(o, &l);

	if (r == 0) {
		diag_init(&d);
		r = mconfig_load(o->file, l.text, l.len, l.patches, o->npatches, &cfg, &d);
		if (r < 0)
			print_diag(&d);
		else
			printf("%s: valid\n", o->file);
		diag_fini(&d);
	}
	mconfig_free(cfg);
	free_inputs(&l);
	return r < 0;
}

static int cmd_install(const struct opts *o)
{
	struct config_holder h = { 0 };
	struct loaded l;
	struct diag d;
	char err[512];
	int r = read_inputs(o, &l);

	if (r == 0) {
		diag_init(&d);
		h.state_dir = (char *)o->state_dir;
		r = config_apply(&h, "apply", o->file, l.text, l.len, l.patches, o->npatches, &d, err,
				 sizeof(err));
		if (r == -EINVAL)
			print_diag(&d);
		else if (r < 0)
			fprintf(stderr, "machined: %s\n", err);
		else
			printf("%s: saved as %s/%s\n", o->file, o->state_dir, CFGSTATE_CURRENT);
		diag_fini(&d);
		mconfig_free(h.cfg);
	}
	free_inputs(&l);
	return r < 0;
}

/* --- a boot medium from a provisioning server (a PXE boot) --- */

struct fetch {
	bool done;
	int status;
	char err[256];
	uint8_t *body;
	size_t len;
};

static void fetched(void *arg, int status, const uint8_t *body, size_t len, const char *err)
{
	struct fetch *f = arg;

	f->done = true;
	f->status = status;
	if (err) {
		snprintf(f->err, sizeof(f->err), "%s", err);
	} else if (status == 200 && (f->body = malloc(len ? len : 1))) {
		memcpy(f->body, body, len);
		f->len = len;
	}
}

/* url fetched whole (at most max bytes) into path. 0, or -1 with err. */
static int fetch_one(struct loop *loop, const char *url, const char *path, size_t max, char *err, size_t errlen)
{
	struct fetch f = { 0 };
	struct http_url u;
	struct http_get *g;
	char e[256], dir[600], *slash;
	int rc = -1;

	if (http_url_parse(url, &u, e, sizeof(e)) < 0 ||
	    http_get_start(loop, &u, NULL, 0, max, 300000, fetched, &f, &g, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%.300s: %s", url, e);
		return -1;
	}
	while (!f.done)
		loop_run_once(loop, 1000);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	if (f.err[0])
		snprintf(err, errlen, "%.300s: %s", url, f.err);
	else if (f.status != 200)
		snprintf(err, errlen, "%.300s: HTTP status %d", url, f.status);
	else if (!f.body)
		snprintf(err, errlen, "%.300s: out of memory", url);
	else if (mkdir_parents(dir, 0755) < 0)
		snprintf(err, errlen, "mkdir %.300s: %s", dir, strerror(errno));
	else if (atomic_write(path, f.body, f.len, 0644, e, sizeof(e)) < 0)
		snprintf(err, errlen, "%s", e);
	else
		rc = 0;
	if (rc == 0)
		log_console("install: fetched %s (%zu bytes)", url, f.len);
	free(f.body);
	return rc;
}

/*
 * The boot medium's files that the install copies (boot/vmlinuz, boot/initramfs.xz and
 * boot/disk/: GRUB for the disk), fetched whole from url (osctl pxe serve's /install/)
 * into dir, as an ISO would hold them. 0, or -1 with err naming the file and why.
 */
static int fetch_medium(const char *url, const char *dir, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t max;
	} files[] = {
		{ "boot/vmlinuz", 64u << 20 },          { "boot/initramfs.xz", 512u << 20 },
		{ "boot/disk/grub.cfg", 64u << 10 },    { "boot/disk/core.img", 4u << 20 },
		{ "boot/disk/boot.img", 4096 },         { "boot/disk/BOOTX64.EFI", 16u << 20 },
	};
	struct loop *loop = NULL;
	int rc = 0;

	if (loop_new(&loop) < 0) {
		snprintf(err, errlen, "an event loop");
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && rc == 0; i++) {
		char full[HTTP_HOST_MAX + HTTP_PATH_MAX], path[600];

		snprintf(full, sizeof(full), "%s%s", url, files[i].name);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		rc = fetch_one(loop, full, path, files[i].max, err, errlen);
	}
	loop_free(loop);
	return rc;
}

/*
 * install-disk: writes the system disk onto DISK from the boot medium DEV (the ISO) or
 * URL (a provisioning server's /install/, for a PXE boot),
 * copying the persisted config and identity from the state directory (InstallController
 * runs it, its output on the console). Everything on DISK is lost.
 */
static int cmd_install_disk(const struct opts *o)
{
	static const char *const files[] = { CFGSTATE_CURRENT, CFGSTATE_IDENTITY, NULL };
	const char *work = "/run/basalt/install", *medium = "/run/basalt/install/medium";
	struct install_req r = { .disk = o->file, .devdir = "/dev", .medium = medium, .work = work,
				 .mkfs_xfs = "/usr/sbin/mkfs.xfs", .mkfs_fat = "/usr/sbin/mkfs.fat",
				 .state_from = o->state_dir, .state_files = files };
	char err[768];
	int rc;

	log_init("machined-install", 2);
	if (!o->file || !o->medium) {
		usage(stderr);
		return 2;
	}
	if (rng_random(rng_ctx(), (unsigned char *)r.guids, sizeof(r.guids)) != 0) {
		log_warnx("install: no random numbers for the disk's GUIDs");
		return 1;
	}
	for (size_t i = 0; i < GPT_P_COUNT + 1; i++) { /* RFC 4122 version 4 */
		r.guids[i][7] = (uint8_t)((r.guids[i][7] & 0x0f) | 0x40);
		r.guids[i][8] = (uint8_t)((r.guids[i][8] & 0x3f) | 0x80);
	}
	if ((mkdir("/run/basalt", 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(medium, 0700) < 0 && errno != EEXIST)) {
		log_warn("install: mkdir %s", medium);
		return 1;
	}
	if (strncmp(o->medium, "http://", 7) == 0) {
		/* A PXE boot: the medium's files from the provisioning server, into /run (memory). */
		if (fetch_medium(o->medium, medium, err, sizeof(err)) < 0) {
			log_warnx("install: the boot medium's files: %s", err);
			return 1;
		}
		rc = disk_install(&r, err, sizeof(err));
	} else if (mount(o->medium, medium, "iso9660", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		log_warn("install: mount the boot medium %s", o->medium);
		return 1;
	} else {
		rc = disk_install(&r, err, sizeof(err));
		umount(medium);
	}
	if (rc < 0) {
		log_warnx("%s", err);
		return 1;
	}
	return 0;
}

static int print_res(void *arg, const struct res *r)
{
	const bool *json = arg;

	resfmt_print(stdout, r, *json);
	return 0;
}

/*
 * Every controller machined runs, in one table. `machined render` runs the pure ones
 * (touches_machine false); the daemon runs them all.
 */
static const struct ctrl_def *const controllers[] = {
	&ctrl_machine_config, &ctrl_machine_status, &ctrl_service_specs, &ctrl_version,
	&ctrl_hostname_config, &ctrl_hostname_apply, &ctrl_link_status, &ctrl_address_status,
	&ctrl_route_status, &ctrl_node_address,
	&ctrl_network_cmdline, &ctrl_network_config, &ctrl_dhcp4, &ctrl_dhcp6, &ctrl_resolvers, &ctrl_timeservers, &ctrl_timesync,
	&ctrl_hosts,
	&ctrl_link_spec, &ctrl_address_spec, &ctrl_route_spec, &ctrl_wireguard,
	&ctrl_init_sync, &ctrl_service_status, &ctrl_api_certificate, &ctrl_disks, &ctrl_install,
	&ctrl_files, &ctrl_volumes, &ctrl_platform_metadata, &ctrl_platform_network,
};

static int start_controllers(struct machined *m, const char *state_dir, bool pure_only, char *err,
			     size_t errlen)
{
	struct ctrl_env env = { .rt = m->rt, .loop = m->loop, .config = &m->config, .status = &m->status,
				.specs = &m->specs, .init = &m->init, .init_socket = m->o->socket,
				.api = &m->api, .machine = m->machine, .cmdline_ip = m->cmdline_ip,
				.install_source = m->install_source,
				.net_refused = m->net_refused, .system_dir = m->system_dir, .from_disk = m->from_disk,
				.sysfs = m->o->sysfs ? m->o->sysfs : "/sys", .var_dir = m->o->var_dir,
				.volumes = &m->volumes, .platform = &m->platform_status };

	if (config_init(&m->config, m->loop, state_dir) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return ctrl_start(&env, controllers, sizeof(controllers) / sizeof(controllers[0]), pure_only, err,
			  errlen);
}

static int setup_core(struct machined *m)
{
	if (loop_new(&m->loop) < 0 || store_new(m->loop, res_all, RES_NTYPES, &m->st) < 0 || rt_new(m->loop, m->st, &m->rt) < 0)
		return -ENOMEM;
	m->specs.self_argv = m->o->argv;
	m->specs.init_socket = m->o->socket;
	m->specs.containerd = m->o->containerd;
	m->specs.containerd_config = m->o->containerd_config;
	m->specs.root = m->o->root;
	return 0;
}

static void teardown_core(struct machined *m)
{
	/* Stopped first, freed after the controllers' fini: a fini that kicks (a network
	 * client telling its controller it stopped) meets a stopped runtime, not freed memory. */
	rt_stop(m->rt);
	ctrl_stop();
	rt_free(m->rt);
	store_free(m->st);
	loop_free(m->loop);
	config_fini(&m->config);
}

static int cmd_render(struct opts *o)
{
	static char *daemon_argv[] = { "/sbin/machined", NULL };
	struct machined m = { .o = o };
	struct loaded l;
	struct diag d;
	char err[512];
	uint64_t deadline;
	int r = read_inputs(o, &l);

	if (r < 0)
		return 1;
	o->argv = daemon_argv;  /* the spec machined would send from a booted image */
	diag_init(&d);
	r = setup_core(&m);
	if (r == 0)
		r = start_controllers(&m, NULL, true, err, sizeof(err));
	if (r == 0) {
		r = config_apply(&m.config, "file", o->file, l.text, l.len, l.patches, o->npatches, &d,
				 err, sizeof(err));
		if (r == -EINVAL)
			print_diag(&d);
	} else {
		fprintf(stderr, "machined: %s\n", err);
	}
	/* Run the controllers until nothing is left to do (bounded, should one keep failing). */
	deadline = mono_ms() + 5000;
	while (r == 0 && mono_ms() < deadline) {
		loop_run_once(m.loop, 10);
		if (rt_idle(m.rt))
			break;
	}
	if (r == 0)
		store_list_all(m.st, print_res, &o->json);
	diag_fini(&d);
	teardown_core(&m);
	free_inputs(&l);
	return r < 0;
}

/* --- the daemon --- */

static int dump_res(void *arg, const struct res *r)
{
	(void)arg;
	resfmt_print(stderr, r, false);
	return 0;
}

static void on_stop(void *arg)
{
	struct machined *m = arg;

	loop_stop(m->loop);
}

static void on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct machined *m = arg;

	if (si->ssi_signo == SIGUSR1) {
		log_info("resources, on request (SIGUSR1):");
		store_list_all(m->st, dump_res, NULL);
		return;
	}
	log_info("signal %u: stopping", si->ssi_signo);
	machine_status_ending(&m->status, false);
	/* One more turn of the loop lets the status reach any watcher. */
	loop_timer_arm(m->loop, &m->stop, 20);
}

static void on_init_shutdown(void *arg, int action)
{
	struct machined *m = arg;

	log_info("init is %s the machine", action == BASALT__INIT__POWER_ACTION__POWER_REBOOT
						   ? "rebooting" : "powering off");
	machine_status_ending(&m->status, action == BASALT__INIT__POWER_ACTION__POWER_REBOOT);
}

/* The API holds a socket per client: room for its connection cap and the rest. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("raise the open-file limit");
	}
}

/* A platform's config: validated and applied as an apply through the API would be. */
static int platform_config(void *arg, const char *source, const char *text, size_t len, char *err, size_t errlen)
{
	struct machined *m = arg;
	struct diag d;
	char *msg;
	int r;

	diag_init(&d);
	r = config_apply(&m->config, source, "the fetched config", text, len, NULL, 0, &d, err, errlen);
	if (r == -EINVAL && (msg = diag_format(&d))) {
		for (char *p = msg; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : '\0';
		snprintf(err, errlen, "does not validate: %s", msg);
		free(msg);
	}
	diag_fini(&d);
	return r < 0 ? -1 : 0;
}

static void platform_reported(void *arg, const struct platform_metadata *md)
{
	struct machined *m = arg;
	struct platform_status *ps = &m->platform_status;

	snprintf(ps->platform, sizeof(ps->platform), "%s", md->platform);
	snprintf(ps->hostname, sizeof(ps->hostname), "%s", md->hostname);
	snprintf(ps->instance_id, sizeof(ps->instance_id), "%s", md->instance_id);
	snprintf(ps->instance_type, sizeof(ps->instance_type), "%s", md->instance_type);
	snprintf(ps->region, sizeof(ps->region), "%s", md->region);
	snprintf(ps->zone, sizeof(ps->zone), "%s", md->zone);
	_Static_assert(sizeof(ps->external) == sizeof(md->external), "external addresses: one size");
	memcpy(ps->external, md->external, sizeof(ps->external));
	ps->n_external = md->n_external;
	free(ps->network);
	ps->network = NULL;
	ps->network_len = 0;
	if (md->network) {
		size_t n = protobuf_c_message_get_packed_size(&md->network->base);

		if ((ps->network = malloc(n ? n : 1))) {
			protobuf_c_message_pack(&md->network->base, ps->network);
			ps->network_len = n;
		}
	}
	platform_status_set(ps);
}

static bool platform_configured(void *arg)
{
	const struct machined *m = arg;

	return m->config.cfg != NULL;
}

static int cmd_daemon(struct opts *o)
{
	struct machined m = { .o = o };
	struct cmdline c;
	char err[512];
	int r;

	log_init("machined", 2);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	r = setup_core(&m);
	m.init.on_shutdown = on_init_shutdown;
	m.init.on_shutdown_arg = &m;
	initctrl_init(&m.init);
	memset(&c, 0, sizeof(c));
	m.machine = getenv("BASALT_MACHINE") != NULL;
	/* In a container /proc/cmdline is the host's kernel's: none of this node's (only a
	 * --cmdline file given stands for one). */
	if ((o->cmdline || m.machine) && cmdline_read(o->cmdline ? o->cmdline : "/proc/cmdline", &c, NULL, NULL) < 0)
		memset(&c, 0, sizeof(c));
	m.from_disk = c.from_disk;
	if (r == 0) {
		struct api_opts ao = { .loop = m.loop, .rt = m.rt, .config = &m.config, .init = &m.init,
				       .init_socket = o->socket, .listen = o->api_listen,
				       .installs = m.machine && !m.from_disk, .var_dir = o->var_dir,
				       .machine = m.machine, .signed_lifetime_s = o->signed_lifetime_s };

		r = api_init(&m.api, &ao, err, sizeof(err));
	}
	m.cmdline_ip = c.ip;
	m.install_source = c.install_source;
	m.net_refused = netguard_check(m.machine, o->host_netns, m.net_refused_buf, sizeof(m.net_refused_buf));
	if (m.net_refused)
		log_info("network: %s", m.net_refused);
	/* Booted from the system disk: its STATE holds the config, its EPHEMERAL is /var,
	 * mounted before anything reads the one or starts writing the other. */
	if (m.machine && c.from_disk) {
		struct volumes_env ve = { .sysfs = o->sysfs ? o->sysfs : "/sys", .devdir = "/dev",
					  .mkfs_xfs = "/usr/sbin/mkfs.xfs", .state_dir = o->state_dir, .var_dir = "/var" };

		volumes_boot(&ve, &m.volumes);
	}
	if (m.machine)
		snprintf(m.system_dir, sizeof(m.system_dir), "/system");
	else
		snprintf(m.system_dir, sizeof(m.system_dir), "%s/system", o->state_dir);
	if (r == 0)
		r = start_controllers(&m, o->state_dir, false, err, sizeof(err));
	if (r < 0)
		fatalx("start: %s", err);
	api_run(&m.api);
	m.api_up = true;
	loop_timer_init(&m.stop, on_stop, &m);
	loop_signal(m.loop, SIGTERM, on_signal, &m);
	loop_signal(m.loop, SIGINT, on_signal, &m);
	loop_signal(m.loop, SIGUSR1, on_signal, &m);
	log_info("starting (pid %d), state in %s", (int)getpid(), o->state_dir);
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST)
		log_warn("create state directory %s (configs cannot be kept)", o->state_dir);
	config_boot(&m.config, c.config_url, c.maintenance);
	{
		struct platform_env pe = { .loop = m.loop, .cmdline = &c, .sysfs = o->sysfs ? o->sysfs : "/sys", .on_config = platform_config,
					   .configured = platform_configured, .on_metadata = platform_reported, .arg = &m,
					   .machine = m.machine };

		if (!m.config.cfg && !c.maintenance)
			platform_start(&m.platform, &pe);
		else
			platform_report(&m.platform, &pe);
	}
	if (loop_run(m.loop) < 0)
		fatal("event loop");
	platform_stop(&m.platform);
	cmdline_fini(&c);
	if (m.api_up)
		api_stop(&m.api);
	initctrl_stop(&m.init);
	teardown_core(&m);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.state_dir = STATE_DIR_DEFAULT,
		.socket = getenv("BASALT_INIT_SOCKET") ? getenv("BASALT_INIT_SOCKET") : SOCKET_DEFAULT,
		.containerd = "/usr/bin/containerd",
		.containerd_config = "/etc/containerd/config.toml",
		.root = "",
		.var_dir = "/var",
		.argv = argv,
	};
	const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;

	if (cmd && strcmp(cmd, "apid") == 0)
		return apid_main(argc, argv);
	log_init("machined", 2);

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (parse_opts(argc, argv, cmd ? 2 : 1, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (!cmd)
		return o.file ? (usage(stderr), 2) : cmd_daemon(&o);
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(&o);
	if (strcmp(cmd, "render") == 0)
		return cmd_render(&o);
	if (strcmp(cmd, "install-config") == 0)
		return cmd_install(&o);
	if (strcmp(cmd, "install-disk") == 0)
		return cmd_install_disk(&o);
	fprintf(stderr, "machined: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}

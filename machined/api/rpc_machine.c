/* SPDX-License-Identifier: MIT */
/* basalt.machine.MachineService: Version, ApplyConfiguration, services, Logs, Dmesg, Reboot, Shutdown. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/block.pb-c.h"
#include "api/init.pb-c.h"
#include "api/machine.pb-c.h"
#include "api/network.pb-c.h"
#include "api/runtime.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/linediff.h"
#include "lib/log.h"
#include "lib/pbyaml.h"
#include "machined/api/api.h"
#include "machined/api/rpc.h"
#include "lib/grpc.h"
#include "machined/ctrl/initclient.h"
#include "machined/api/kmsg.h"
#include "machined/core/resfmt.h"

#define TRY_DEFAULT_MS 60000

typedef Basalt__Machine__ApplyConfigurationRequest ApplyReq;

/* --- Version --- */

void rpc_version(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__VersionInfo v = BASALT__MACHINE__VERSION_INFO__INIT;
	Basalt__Machine__VersionInfo *vp = &v;
	Basalt__Machine__VersionResponse r = BASALT__MACHINE__VERSION_RESPONSE__INIT;
	const struct res *vr = store_get(a->st, RES(VERSION), "version");
	const Basalt__Runtime__Version *spec = res_spec(vr, RES(VERSION));
	/* The hostname as HostnameStatus has it: one source of truth for the kernel's state. */
	const Basalt__Network__HostnameStatus *hs =
		res_spec(store_get(a->st, RES(HOSTNAME_STATUS), "hostname"), RES(HOSTNAME_STATUS));

	(void)role;
	if (spec) {
		v.version = spec->version;
		v.name = spec->name;
		v.kernel = spec->kernel;
		v.arch = spec->arch;
	}
	v.hostname = hs && hs->hostname ? hs->hostname : "";
	v.maintenance = a->maintenance;
	r.messages = &vp;
	r.n_messages = 1;
	api_reply(c, &r.base);
}

/* --- ApplyConfiguration --- */

static bool same_msg(const void *x, const void *y)
{
	if (!x || !y)
		return x == y;
	return res_spec_equal(x, y);
}

/* What a running machine cannot take without a reboot, or NULL. */
static const char *reboot_reason(const Basalt__Config__Config *old, const Basalt__Config__Config *new, bool installs)
{
	const Basalt__Config__Machine *o = old ? old->machine : NULL, *n = new->machine;

	if (!old || !o || !n)
		return NULL;
	if (!installs && !same_msg(o->install, n->install))
		return "machine.install changed";
	if (!same_msg(o->kernel, n->kernel))
		return "machine.kernel changed";
	if (o->n_disks != n->n_disks)
		return "machine.disks changed";
	for (size_t i = 0; i < o->n_disks; i++)
		if (!same_msg(o->disks[i], n->disks[i]))
			return "machine.disks changed";
	if ((o->type || n->type) && (!o->type || !n->type || strcmp(o->type, n->type) != 0))
		return "machine.type changed";
	return NULL;
}

static void apply_reply(struct apicall *c, int mode, const char *details, const char *diff,
			const char *warning)
{
	Basalt__Machine__ApplyConfiguration m = BASALT__MACHINE__APPLY_CONFIGURATION__INIT;
	Basalt__Machine__ApplyConfiguration *mp = &m;
	Basalt__Machine__ApplyConfigurationResponse r = BASALT__MACHINE__APPLY_CONFIGURATION_RESPONSE__INIT;
	char *w = (char *)warning;

	m.mode = mode;
	m.mode_details = (char *)details;
	m.diff = (char *)(diff ? diff : "");
	if (warning) {
		m.warnings = &w;
		m.n_warnings = 1;
	}
	r.messages = &mp;
	r.n_messages = 1;
	api_reply(c, &r.base);
}

/* One ApplyConfiguration: the request, the config it carries, and what changes. */
struct apply_job {
	struct api *a;
	struct apicall *c;
	ApplyReq *req;
	Basalt__Config__Config *cfg;  /* the new config, validated */
	char *old_text;               /* the config in force, as YAML ("" for none) */
	char *diff;
	const char *why_reboot;       /* what in the change needs a reboot, or NULL */
};

#define MODE(m) BASALT__MACHINE__APPLY_CONFIGURATION_REQUEST__MODE__##m

/* Validates the config and computes the diff; 0, or -1 with the call finished. */
static int apply_prepare(struct apply_job *j)
{
	struct config_holder *h = j->a->o.config;
	char *new_text = NULL, *problems;
	struct diag d;
	int r = -1;

	diag_init(&d);
	if (j->req->data.len == 0) {
		apicall_finish(j->c, GRPC_INVALID_ARGUMENT, "no config in the request");
		goto out;
	}
	if (mconfig_load("config", (const char *)j->req->data.data, j->req->data.len, NULL, 0, &j->cfg,
			 &d) < 0) {
		problems = diag_format(&d);
		apicall_finish(j->c, GRPC_INVALID_ARGUMENT, problems ? problems : "invalid config");
		free(problems);
		goto out;
	}
	/* The diff is a dry run's answer: an apply does not wait for two emits and a diff of a
	 * large config. A caller without identity never sees the config in force, even by diff. */
	if (j->req->dry_run) {
		j->old_text = h->cfg && !apicall_maintenance(j->c) ? mconfig_emit(h->cfg, false) : strdup("");
		new_text = mconfig_emit(j->cfg, false);
		if (j->old_text && new_text)
			j->diff = linediff(j->old_text, new_text, "config in force", "new config");
		if (!j->diff) {
			apicall_finish(j->c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	}
	j->why_reboot = reboot_reason(h->cfg, j->cfg, j->a->o.installs);
	r = 0;
out:
	free(new_text);
	diag_fini(&d);
	return r;
}

/* Whether the mode allows applying this change now; if not, the call is finished. */
static bool apply_allowed(struct apply_job *j)
{
	char why[512];

	switch (j->req->mode) {
	case MODE(NO_REBOOT):
	case MODE(TRY):
		if (j->why_reboot) {
			snprintf(why, sizeof(why), "this change needs a reboot (%s): use --mode reboot, "
				 "auto or staged", j->why_reboot);
			apicall_finish(j->c, GRPC_FAILED_PRECONDITION, why);
			return false;
		}
		if (j->req->mode == MODE(TRY) && !j->a->o.config->cfg) {
			apicall_finish(j->c, GRPC_FAILED_PRECONDITION,
				       "try needs a config in force to return to; this machine has none yet");
			return false;
		}
		return true;
	case MODE(AUTO):
	case MODE(REBOOT):
		return true;
	default:
		apicall_finish(j->c, GRPC_INVALID_ARGUMENT, "unknown mode");
		return false;
	}
}

static void apply_staged(struct apply_job *j)
{
	char err[512];
	int r = config_stage(j->a->o.config, (const char *)j->req->data.data, j->req->data.len, err,
			     sizeof(err));

	if (r < 0)
		apicall_finish(j->c, r == -ENOTSUP ? GRPC_FAILED_PRECONDITION : GRPC_INTERNAL, err);
	else
		apply_reply(j->c, j->req->mode, "staged: the config takes effect at the next boot", j->diff, NULL);
}

/*
 * A try's answer waits until the controllers have applied it (at most TRY_SETTLE_MS): a
 * caller that confirms on reconnecting then connects under the tried config, never over an
 * address the change is about to take away.
 */
#define TRY_SETTLE_MS 5000
#define TRY_SETTLE_POLL_MS 5

struct try_answer {
	struct api *a;
	struct apicall *c;
	char details[512];
	uint64_t until_ns;
	struct loop_timer t;
};

static void try_answer_poll(void *arg)
{
	struct try_answer *t = arg;

	if (!rt_idle(t->a->o.rt) && mono_ns() < t->until_ns && !apicall_cancelled(t->c)) {
		loop_timer_arm(t->a->o.loop, &t->t, TRY_SETTLE_POLL_MS);
		return;
	}
	apply_reply(t->c, MODE(TRY), t->details, NULL, NULL);
	free(t);
}

static void try_answer(struct api *a, struct apicall *c, const char *details)
{
	struct try_answer *t = calloc(1, sizeof(*t));

	if (!t) {
		apply_reply(c, MODE(TRY), details, NULL, NULL);
		return;
	}
	t->a = a;
	t->c = c;
	snprintf(t->details, sizeof(t->details), "%s", details);
	t->until_ns = mono_ns() + TRY_SETTLE_MS * 1000000ull;
	loop_timer_init(&t->t, try_answer_poll, t);
	loop_timer_arm(a->o.loop, &t->t, TRY_SETTLE_POLL_MS);
}

/* Puts the config in force, then arms a try's rollback, confirms a try, or reboots. */
static void apply_now(struct apply_job *j)
{
	struct api *a = j->a;
	char err[512], details[512];
	const char *text = (const char *)j->req->data.data;
	size_t len = j->req->data.len;
	uint64_t try_ms = j->req->try_timeout_ms ? j->req->try_timeout_ms : TRY_DEFAULT_MS;
	int r;

	/* The config validated once, in apply_prepare, is the one put in force. */
	if (j->req->mode == MODE(TRY))
		r = config_try(a->o.config, j->cfg, text, len, try_ms, err, sizeof(err));
	else
		r = config_put(a->o.config, "apply", j->cfg, text, len, err, sizeof(err));
	j->cfg = NULL;
	if (r < 0) {
		apicall_finish(j->c, GRPC_INTERNAL, err);
		return;
	}
	if (j->req->mode == MODE(TRY)) {
		snprintf(details, sizeof(details), "applied for a try: the previous config returns in "
			 "%llu ms unless this one is confirmed (applied again in another mode)",
			 (unsigned long long)try_ms);
		try_answer(a, j->c, details);
		return;
	}
	if (j->req->mode == MODE(REBOOT) || j->why_reboot) {
		snprintf(details, sizeof(details), "applied; rebooting%s%s", j->why_reboot ? " because " : "",
			 j->why_reboot ? j->why_reboot : "");
		apply_reply(j->c, j->req->mode, details, j->diff, NULL);
		api_schedule_power(a, BASALT__INIT__POWER_ACTION__POWER_REBOOT);
		return;
	}
	apply_reply(j->c, j->req->mode, "applied without a reboot", j->diff, NULL);
}

/* A try is in progress, of exactly this config text. */
static bool try_pending(const struct config_holder *h, const ProtobufCBinaryData *data)
{
	return h->committed && h->text && strlen(h->text) == data->len && memcmp(h->text, data->data, data->len) == 0;
}

void rpc_apply(struct api *a, struct apicall *c, enum pki_role role)
{
	struct apply_job j = { .a = a, .c = c };
	char details[512];

	(void)role;
	j.req = DECODE(c, ApplyReq, basalt__machine__apply_configuration_request__descriptor);
	if (!j.req)
		return;
	if (apicall_maintenance(c) && j.req->mode == MODE(STAGED)) {
		/* A staged config would leave the node open to the next caller without identity. */
		apicall_finish(c, GRPC_FAILED_PRECONDITION, "maintenance mode puts the first config in "
			       "force now: use --mode auto, no-reboot or reboot (staged needs a config in force)");
		goto out;
	}
	if (j.req->confirm_try && !try_pending(a->o.config, &j.req->data)) {
		/* A confirm that comes late must not put back what the rollback took away. */
		apicall_finish(c, GRPC_FAILED_PRECONDITION, "no try of this config is in progress to confirm "
			       "(it was rolled back at its deadline, confirmed, or replaced)");
		goto out;
	}
	if (apply_prepare(&j) < 0)
		goto out;
	if (j.req->dry_run) {
		snprintf(details, sizeof(details), "dry run: nothing changed%s%s",
			 j.why_reboot ? "; applying would need a reboot: " : "", j.why_reboot ? j.why_reboot : "");
		apply_reply(c, j.req->mode, details, j.diff, NULL);
	} else if (j.req->mode == MODE(STAGED)) {
		apply_staged(&j);
	} else if (apply_allowed(&j)) {
		apply_now(&j);
	}
out:
	free(j.old_text);
	free(j.diff);
	mconfig_free(j.cfg);
	protobuf_c_message_free_unpacked(&j.req->base, NULL);
}

/* --- services --- */

struct svc_list {
	Basalt__Machine__ServiceInfo *infos;
	Basalt__Machine__ServiceInfo **ptrs;
	size_t n, cap;
};

static int add_service(void *arg, const struct res *r)
{
	struct svc_list *l = arg;
	const Basalt__Runtime__Service *s = res_spec(r, RES(SERVICE));
	Basalt__Machine__ServiceInfo *i;

	if (!s)
		return 0;
	if (l->n == l->cap)
		return 1;
	i = &l->infos[l->n];
	basalt__machine__service_info__init(i);
	i->id = r->id;
	i->state = s->state;
	i->healthy = s->healthy;
	i->pid = s->pid;
	i->restarts = s->restarts;
	i->last_exit = s->lastexit;
	i->message = s->message;
	l->ptrs[l->n++] = i;
	return 0;
}

void rpc_service_list(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__ServiceList sl = BASALT__MACHINE__SERVICE_LIST__INIT;
	Basalt__Machine__ServiceList *slp = &sl;
	Basalt__Machine__ServiceListResponse r = BASALT__MACHINE__SERVICE_LIST_RESPONSE__INIT;
	struct svc_list l = { .cap = INITCTRL_MAX };

	(void)role;
	l.infos = calloc(l.cap, sizeof(*l.infos));
	l.ptrs = calloc(l.cap, sizeof(*l.ptrs));
	if (!l.infos || !l.ptrs) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		store_list(a->st, RES(SERVICE), NULL, add_service, &l);
		sl.services = l.ptrs;
		sl.n_services = l.n;
		r.messages = &slp;
		r.n_messages = 1;
		api_reply(c, &r.base);
	}
	free(l.infos);
	free(l.ptrs);
}

static void service_reply(struct apicall *c, const char *result)
{
	Basalt__Machine__ServiceAction sa = BASALT__MACHINE__SERVICE_ACTION__INIT;
	Basalt__Machine__ServiceAction *sap = &sa;
	Basalt__Machine__ServiceActionResponse r = BASALT__MACHINE__SERVICE_ACTION_RESPONSE__INIT;

	sa.result = (char *)result;
	r.messages = &sap;
	r.n_messages = 1;
	api_reply(c, &r.base);
}

static void on_restart_reply(void *arg, int error, const char *message)
{
	(void)arg;
	if (error)
		log_warnx("init refused a restart: %s", message);
}

static void rpc_service(struct api *a, struct apicall *c, const char *action)
{
	Basalt__Machine__ServiceRequest *req =
		DECODE(c, Basalt__Machine__ServiceRequest, basalt__machine__service_request__descriptor);
	char err[256], msg[300];
	int r;

	if (!req)
		return;
	if (!store_get(a->st, RES(SERVICE_SPEC), req->id)) {
		snprintf(msg, sizeof(msg), "no service %.200s", req->id);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
	} else if (strcmp(action, "stop") == 0) {
		r = initctrl_stop_service(a->o.init, a->o.rt, req->id, err, sizeof(err));
		if (r < 0)
			apicall_finish(c, r == -EPERM ? GRPC_FAILED_PRECONDITION : GRPC_INTERNAL, err);
		else
			service_reply(c, "stopping");
	} else if (strcmp(action, "start") == 0) {
		service_reply(c, initctrl_start_service(a->o.init, req->id) ? "starting" : "already started");
	} else if (initctrl_start_service(a->o.init, req->id)) {
		service_reply(c, "was stopped: starting");
	} else if (initctrl_restart_service(a->o.init, req->id, on_restart_reply, a) < 0) {
		apicall_finish(c, GRPC_UNAVAILABLE, "init cannot be reached");
	} else {
		service_reply(c, "restarting");
	}
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* --- Reboot, Shutdown --- */

static void rpc_power(struct api *a, struct apicall *c, bool reboot)
{
	if (reboot) {
		Basalt__Machine__Reboot m = BASALT__MACHINE__REBOOT__INIT;
		Basalt__Machine__Reboot *mp = &m;
		Basalt__Machine__RebootResponse r = BASALT__MACHINE__REBOOT_RESPONSE__INIT;

		r.messages = &mp;
		r.n_messages = 1;
		api_reply(c, &r.base);
	} else {
		Basalt__Machine__Shutdown m = BASALT__MACHINE__SHUTDOWN__INIT;
		Basalt__Machine__Shutdown *mp = &m;
		Basalt__Machine__ShutdownResponse r = BASALT__MACHINE__SHUTDOWN_RESPONSE__INIT;

		r.messages = &mp;
		r.n_messages = 1;
		api_reply(c, &r.base);
	}
	log_info("API: %s requested", reboot ? "reboot" : "shutdown");
	api_schedule_power(a, reboot ? BASALT__INIT__POWER_ACTION__POWER_REBOOT
				     : BASALT__INIT__POWER_ACTION__POWER_OFF);
}

/* --- Reset --- */

/*
 * Wipes STATE and EPHEMERAL (or those named) and goes down: a volume machined mounted from
 * the system disk at boot (block/Volume phase ready) is wiped by init once everything is
 * unmounted; the configs and the identity kept in the state directory are removed at once
 * either way. A node that runs from memory (booted from media) loses both with the reboot.
 */
void rpc_reset(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__ResetRequest *req = DECODE(c, Basalt__Machine__ResetRequest, basalt__machine__reset_request__descriptor);
	Basalt__Machine__Reset m = BASALT__MACHINE__RESET__INIT;
	Basalt__Machine__Reset *mp = &m;
	Basalt__Machine__ResetResponse r = BASALT__MACHINE__RESET_RESPONSE__INIT;
	static const char *const all[] = { "STATE", "EPHEMERAL" };
	char wiped[2][96], *wv[2], *devs[2], msg[1024], err[300];
	size_t nl = 0, nw = 0, ml = 0;
	const char *labels[2];
	bool state = false;

	(void)role;
	if (!req)
		return;
	for (size_t i = 0; i < req->n_wipe; i++) {
		const char *l = req->wipe[i];
		bool dup = false;

		if (strcmp(l, "STATE") != 0 && strcmp(l, "EPHEMERAL") != 0) {
			snprintf(msg, sizeof(msg), "wipe %.64s: only STATE and EPHEMERAL can be wiped", l);
			apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
			goto out;
		}
		for (size_t k = 0; k < nl; k++)
			dup |= strcmp(labels[k], l) == 0;
		if (!dup)
			labels[nl++] = l;
	}
	if (nl == 0)
		labels[0] = all[0], labels[1] = all[1], nl = 2;
	msg[0] = '\0';
	for (size_t i = 0; i < nl; i++) {
		const Basalt__Block__Volume *v = res_spec(store_get(a->st, RES(VOLUME), labels[i]), RES(VOLUME));

		state |= strcmp(labels[i], "STATE") == 0;
		if (v && strcmp(v->phase, "ready") == 0 && v->devpath[0]) {
			snprintf(wiped[nw], sizeof(wiped[nw]), "%s (%.60s)", labels[i], v->devpath);
			wv[nw] = wiped[nw];
			devs[nw++] = v->devpath;
			ml += (size_t)snprintf(msg + ml, sizeof(msg) - ml, "%s%s (%s) is wiped once it is unmounted", ml ? "; " : "",
					       labels[i], v->devpath);
		} else if (strcmp(labels[i], "STATE") == 0) {
			ml += (size_t)snprintf(msg + ml, sizeof(msg) - ml, "%sSTATE is not on a disk: its configs are removed", ml ? "; " : "");
		} else {
			ml += (size_t)snprintf(msg + ml, sizeof(msg) - ml, "%sEPHEMERAL is not on a disk: %s", ml ? "; " : "",
					       a->o.machine ? "/var is in memory and goes with the node"
										: "in a container /var is not the node's own: not wiped");
		}
		if (ml >= sizeof(msg))
			ml = sizeof(msg) - 1;
	}
	if (state && config_forget(a->o.config, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "reset: %s", err);
		apicall_finish(c, GRPC_INTERNAL, msg);
		goto out;
	}
	snprintf(msg + ml, sizeof(msg) - ml, "; %s%s", req->graceful ? "services stop in order (nothing to drain or leave: no Kubernetes here yet), then " : "",
		 req->reboot ? "the node reboots into maintenance mode" : "the node powers off (maintenance mode at its next boot)");
	m.wiped = wv;
	m.n_wiped = nw;
	m.message = msg;
	r.messages = &mp;
	r.n_messages = 1;
	api_reply(c, &r.base);
	log_console("reset: %s", msg);
	api_schedule_reset(a, req->reboot ? BASALT__INIT__POWER_ACTION__POWER_REBOOT : BASALT__INIT__POWER_ACTION__POWER_OFF,
			   devs, nw);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* --- byte streams (Logs, Dmesg) --- */

int rpc_send_data(struct apicall *c, const void *p, size_t n)
{
	Basalt__Machine__Data d = BASALT__MACHINE__DATA__INIT;

	d.bytes.data = (uint8_t *)p;
	d.bytes.len = n;
	return api_send(c, &d.base);
}

int rpc_stream_check(struct apicall *c, int sent)
{
	if (sent < 0)
		return GRPC_UNAVAILABLE;
	if (apicall_queued(c) > STREAM_MAX_QUEUED)
		return GRPC_RESOURCE_EXHAUSTED;
	return 0;
}

const char *rpc_stream_why(int code)
{
	return code == GRPC_RESOURCE_EXHAUSTED ? "the client is not reading the stream" : "the stream broke";
}

struct logs {
	struct api *a;
	struct apicall *call;
	struct initclient ic;
	struct loop_timer reap;
	char id[64];
	bool follow, ended;
	int tail;             /* lines; 0: all; -1: none */
	int phase;            /* 1: reading what is kept (for tail); 2: streaming */
	uint64_t from;        /* phase 2 sends from this offset */
	struct buf kept;
};

static void logs_reap(void *arg)
{
	struct logs *l = arg;

	initclient_close(&l->ic);
	buf_fini(&l->kept);
	free(l);
}

/* Ends the call (if still ours) and frees l from the loop. */
static void logs_end(struct logs *l, int code, const char *msg)
{
	if (l->ended)
		return;
	l->ended = true;
	if (l->call)
		apicall_finish(l->call, code, msg);
	l->call = NULL;
	loop_timer_arm(l->a->o.loop, &l->reap, 0);
}

static void logs_cancel(void *arg, struct apicall *c)
{
	struct logs *l = arg;

	(void)c;
	logs_end(l, GRPC_CANCELLED, NULL);
}

static bool logs_request(struct logs *l, bool follow);

static bool logs_resp(void *arg, const Basalt__Init__Response *resp)
{
	struct logs *l = arg;
	const Basalt__Init__LogChunk *ch = resp->result_case == BASALT__INIT__RESPONSE__RESULT_LOG ? resp->log : NULL;
	int code;

	if (l->ended)
		return false;
	if (resp->error) {
		logs_end(l, resp->error == ENOENT ? GRPC_NOT_FOUND : GRPC_INTERNAL, resp->message);
		return false;
	}
	if (l->phase == 1) {
		const uint8_t *p;
		size_t n, start, lines = 0;

		if (ch && ch->data.len) {
			if (buf_append(&l->kept, ch->data.data, ch->data.len) < 0) {
				logs_end(l, GRPC_RESOURCE_EXHAUSTED, "out of memory");
				return false;
			}
			l->from = ch->offset + ch->data.len;
			return true;
		}
		/* The end of what is kept: send its last lines, then follow from there. */
		p = buf_head(&l->kept);
		n = l->kept.len;
		start = n;
		if (l->tail > 0)
			while (start > 0) {
				if (p[start - 1] == '\n' && start != n && ++lines == (size_t)l->tail)
					break;
				start--;
			}
		if (start < n && (code = rpc_stream_check(l->call, rpc_send_data(l->call, p + start, n - start)))) {
			logs_end(l, code, rpc_stream_why(code));
			return false;
		}
		if (!l->follow) {
			logs_end(l, GRPC_OK, NULL);
			return false;
		}
		l->phase = 2;
		logs_request(l, true);
		return false;
	}
	if (ch && ch->data.len) {
		const uint8_t *p = ch->data.data;
		size_t n = ch->data.len;

		if (ch->offset + n <= l->from)
			return true;
		if (ch->offset < l->from) {
			p += l->from - ch->offset;
			n -= (size_t)(l->from - ch->offset);
		}
		if ((code = rpc_stream_check(l->call, rpc_send_data(l->call, p, n)))) {
			logs_end(l, code, rpc_stream_why(code));
			return false;
		}
		return true;
	}
	if (!l->follow) {
		logs_end(l, GRPC_OK, NULL);
		return false;
	}
	return true;
}

static void logs_lost(void *arg, int reason)
{
	struct logs *l = arg;
	char msg[300];

	snprintf(msg, sizeof(msg), "lost the connection to init: %s%s%s", strerror(-reason),
		 l->ic.refusal[0] ? ": " : "", l->ic.refusal);
	logs_end(l, GRPC_UNAVAILABLE, msg);
}

static bool logs_request(struct logs *l, bool follow)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__ReadLog rl = BASALT__INIT__READ_LOG__INIT;

	rl.id = l->id;
	rl.follow = follow;
	req.op_case = BASALT__INIT__REQUEST__OP_READ_LOG;
	req.read_log = &rl;
	if (initclient_send(&l->ic, &req, logs_resp, l) < 0) {
		logs_end(l, GRPC_UNAVAILABLE, "cannot send to init");
		return false;
	}
	return true;
}

void rpc_logs(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__LogsRequest *req = DECODE(c, Basalt__Machine__LogsRequest, basalt__machine__logs_request__descriptor);
	struct logs *l;
	char err[256];

	(void)role;
	if (!req)
		return;
	l = calloc(1, sizeof(*l));
	if (!l) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	l->a = a;
	l->call = c;
	l->follow = req->follow;
	l->tail = req->tail_lines;
	snprintf(l->id, sizeof(l->id), "%s", req->id);
	buf_init(&l->kept);
	loop_timer_init(&l->reap, logs_reap, l);
	initclient_init(&l->ic, a->o.loop, logs_lost, l);
	apicall_on_cancel(c, logs_cancel, l);
	if (initclient_connect(&l->ic, a->o.init_socket, err, sizeof(err)) < 0) {
		logs_end(l, GRPC_UNAVAILABLE, err);
		goto out;
	}
	if (l->tail != 0) {
		l->phase = 1;
		logs_request(l, false);
	} else {
		l->phase = 2;
		logs_request(l, l->follow);
	}
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

struct dmesg {
	struct api *a;
	struct apicall *call;
	int fd;
	struct loop_watch *w;
	bool follow, held;
};

static void dmesg_free(struct dmesg *d)
{
	if (d->w)
		loop_watch_del(d->a->o.loop, d->w);
	close(d->fd);
	free(d);
}

static void dmesg_cancel(void *arg, struct apicall *c)
{
	struct dmesg *d = arg;

	apicall_finish(c, GRPC_CANCELLED, NULL);
	dmesg_free(d);
}

/*
 * Sends what the kernel has: 0 while more may come, 1 at the end of a non-follow read, or
 * minus the status the stream must end with. Each record is formatted as soon as it is
 * read, into a chunk with room for a whole record past the send threshold, so none is
 * dropped; the chunk goes out once past DATA_CHUNK or when the kernel has no more.
 */
static int dmesg_pump(struct dmesg *d)
{
	char rec[8192], chunk[DATA_CHUNK + sizeof(rec) + 64];
	size_t used = 0;

	for (;;) {
		ssize_t n = read(d->fd, rec, sizeof(rec));

		if (n < 0 && errno == EPIPE)
			continue;  /* records were overwritten before we read them */
		if (n > 0)
			used += kmsg_format(rec, (size_t)n, chunk + used, sizeof(chunk) - used);
		if (used && (n <= 0 || used > DATA_CHUNK)) {
			int r = rpc_send_data(d->call, chunk, used), code = rpc_stream_check(d->call, r);

			if (code)
				return -code;
			used = 0;
			if (r == 1) {
				d->held = true;
				loop_watch_mod(d->a->o.loop, d->w, 0);
				return 0;
			}
		}
		if (n <= 0)
			return n < 0 && errno == EAGAIN && d->follow ? 0 : 1;
	}
}

static void dmesg_io(void *arg, uint32_t events)
{
	struct dmesg *d = arg;
	int r;

	(void)events;
	r = dmesg_pump(d);
	if (r == 0)
		return;
	apicall_on_cancel(d->call, NULL, NULL);
	apicall_on_writable(d->call, NULL, NULL);
	apicall_finish(d->call, r > 0 ? GRPC_OK : -r, r > 0 ? NULL : rpc_stream_why(-r));
	dmesg_free(d);
}

static void dmesg_writable(void *arg, struct apicall *c)
{
	struct dmesg *d = arg;

	(void)c;
	if (!d->held)
		return;
	d->held = false;
	loop_watch_mod(d->a->o.loop, d->w, EPOLLIN);
	dmesg_io(d, EPOLLIN);
}

void rpc_dmesg(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__DmesgRequest *req = DECODE(c, Basalt__Machine__DmesgRequest, basalt__machine__dmesg_request__descriptor);
	const char *path = a->o.kmsg ? a->o.kmsg : "/dev/kmsg";
	struct dmesg *d;
	char msg[300];

	(void)role;
	if (!req)
		return;
	d = calloc(1, sizeof(*d));
	if (!d) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	d->a = a;
	d->call = c;
	d->follow = req->follow;
	d->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(msg, sizeof(msg), "open %s: %s", path, strerror(errno));
		free(d);
		apicall_finish(c, GRPC_UNAVAILABLE, msg);
		goto out;
	}
	if (req->tail)
		lseek(d->fd, 0, SEEK_END);
	if (loop_watch_add(a->o.loop, d->fd, EPOLLIN, dmesg_io, d, &d->w) < 0) {
		close(d->fd);
		free(d);
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "cannot watch the kernel log");
		goto out;
	}
	apicall_on_cancel(c, dmesg_cancel, d);
	apicall_on_writable(c, dmesg_writable, d);
	dmesg_io(d, EPOLLIN);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

void rpc_service_start(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "start");
}

void rpc_service_stop(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "stop");
}

void rpc_service_restart(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "restart");
}

void rpc_reboot(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_power(a, c, true);
}

void rpc_shutdown(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_power(a, c, false);
}


/* SPDX-License-Identifier: MIT */
/*
 * The machine API's RPCs, run on machined's loop once api.c has authorised the caller.
 * Streams (Logs, Dmesg, List, Watch) respect the client's pace: a stream whose client
 * stops reading is held, and ended (rather than buffered without bound) when it falls too
 * far behind.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "api/machine.pb-c.h"
#include "api/runtime.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/linediff.h"
#include "lib/log.h"
#include "lib/pbyaml.h"
#include "machined/api/api.h"
#include "lib/grpc.h"
#include "machined/ctrl/initclient.h"
#include "machined/api/kmsg.h"
#include "machined/core/resfmt.h"

#define STREAM_MAX_QUEUED (4u << 20)  /* a stream whose client lags further is ended */
#define DATA_CHUNK 16384
#define TRY_DEFAULT_MS 60000

typedef Basalt__Machine__ApplyConfigurationRequest ApplyReq;

static void *decode(struct apicall *c, const ProtobufCMessageDescriptor *d)
{
	size_t len;
	const uint8_t *p = apicall_request(c, &len);
	void *m = protobuf_c_message_unpack(d, NULL, len, p);

	if (!m) {
		char msg[160];

		snprintf(msg, sizeof(msg), "the request is not a valid %s", d->name);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
	}
	return m;
}

#define DECODE(c, type, desc) ((type *)decode((c), &(desc)))

/* --- Version --- */

static void rpc_version(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__VersionInfo v = BASALT__MACHINE__VERSION_INFO__INIT;
	Basalt__Machine__VersionInfo *vp = &v;
	Basalt__Machine__VersionResponse r = BASALT__MACHINE__VERSION_RESPONSE__INIT;
	const struct res *vr = store_get(a->st, "runtime", "Version", "version");
	const Basalt__Runtime__Version *spec = vr ? (const void *)vr->spec : NULL;
	char host[256] = "";

	(void)role;
	if (spec) {
		v.version = spec->version;
		v.name = spec->name;
		v.kernel = spec->kernel;
		v.arch = spec->arch;
	}
	gethostname(host, sizeof(host));
	v.hostname = host;
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
static const char *reboot_reason(const Basalt__Config__Config *old, const Basalt__Config__Config *new)
{
	const Basalt__Config__Machine *o = old ? old->machine : NULL, *n = new->machine;

	if (!old || !o || !n)
		return NULL;
	if (!same_msg(o->install, n->install))
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
	/* A caller without identity never sees the config in force, even by diff. */
	j->old_text = h->cfg && !apicall_maintenance(j->c) ? mconfig_emit(h->cfg, false) : strdup("");
	new_text = mconfig_emit(j->cfg, false);
	if (j->old_text && new_text)
		j->diff = linediff(j->old_text, new_text, "config in force", "new config");
	if (!j->diff) {
		apicall_finish(j->c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	j->why_reboot = reboot_reason(h->cfg, j->cfg);
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

/* Puts the config in force, then arms a try's rollback, confirms a try, or reboots. */
static void apply_now(struct apply_job *j)
{
	struct api *a = j->a;
	char err[512], details[512];
	const char *text = (const char *)j->req->data.data;
	size_t len = j->req->data.len;
	uint64_t try_ms = j->req->try_timeout_ms ? j->req->try_timeout_ms : TRY_DEFAULT_MS;
	bool confirms = config_trying(a->o.config);
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
		apply_reply(j->c, j->req->mode, details, j->diff, NULL);
		return;
	}
	if (confirms)
		log_info("try: confirmed by an apply in another mode");
	if (j->req->mode == MODE(REBOOT) || j->why_reboot) {
		snprintf(details, sizeof(details), "applied; rebooting%s%s", j->why_reboot ? " because " : "",
			 j->why_reboot ? j->why_reboot : "");
		apply_reply(j->c, j->req->mode, details, j->diff, NULL);
		api_schedule_power(a, BASALT__INIT__POWER_ACTION__POWER_REBOOT);
		return;
	}
	apply_reply(j->c, j->req->mode, "applied without a reboot", j->diff, NULL);
}

static void rpc_apply(struct api *a, struct apicall *c, enum pki_role role)
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
	const Basalt__Runtime__Service *s = (const void *)r->spec;
	Basalt__Machine__ServiceInfo *i;

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

static void rpc_service_list(struct api *a, struct apicall *c, enum pki_role role)
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
		store_list(a->st, "runtime", "Service", NULL, add_service, &l);
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
	if (!store_get(a->st, "runtime", "ServiceSpec", req->id)) {
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

/* --- byte streams (Logs, Dmesg) --- */

static int send_data(struct apicall *c, const void *p, size_t n)
{
	Basalt__Machine__Data d = BASALT__MACHINE__DATA__INIT;

	d.bytes.data = (uint8_t *)p;
	d.bytes.len = n;
	return api_send(c, &d.base);
}

/* 0 while the stream may go on, else the status to end it with (the caller ends it). */
static int stream_check(struct apicall *c, int sent)
{
	if (sent < 0)
		return GRPC_UNAVAILABLE;
	if (apicall_queued(c) > STREAM_MAX_QUEUED)
		return GRPC_RESOURCE_EXHAUSTED;
	return 0;
}

static const char *stream_why(int code)
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
		if (start < n && (code = stream_check(l->call, send_data(l->call, p + start, n - start)))) {
			logs_end(l, code, stream_why(code));
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
		if ((code = stream_check(l->call, send_data(l->call, p, n)))) {
			logs_end(l, code, stream_why(code));
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

static void rpc_logs(struct api *a, struct apicall *c, enum pki_role role)
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
			int r = send_data(d->call, chunk, used), code = stream_check(d->call, r);

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
	apicall_finish(d->call, r > 0 ? GRPC_OK : -r, r > 0 ? NULL : stream_why(-r));
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

static void rpc_dmesg(struct api *a, struct apicall *c, enum pki_role role)
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

/* --- resources --- */

#define API_NAME_MAX 64  /* a namespace or type name */

/*
 * Resolves a type name or alias from the registry; finishes the call and returns NULL if
 * it may not be read. Only registered types in their own namespace are reachable: a
 * watch on a made-up namespace or type would otherwise make the store keep a kind for it
 * for good (memory, and slower lookups, at any reader's request).
 */
static const struct api_restype *resolve(struct apicall *c, enum pki_role role, const char *ns,
					 const char *type, const char **rns, const char **rtype)
{
	const struct api_restype *t;
	char msg[1024];
	size_t n;

	if (strlen(type) > API_NAME_MAX || (ns && strlen(ns) > API_NAME_MAX)) {
		snprintf(msg, sizeof(msg), "a resource type or namespace of %zu characters: at most %d",
			 strlen(type) > API_NAME_MAX ? strlen(type) : strlen(ns), API_NAME_MAX);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
		return NULL;
	}
	if (!(t = api_restype_find(type))) {
		n = (size_t)snprintf(msg, sizeof(msg), "unknown resource type %s; the types are", type);
		for (size_t i = 0; i < api_nrestypes && n < sizeof(msg); i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "", api_restypes[i].type);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
		return NULL;
	}
	if (ns && *ns && strcmp(ns, t->ns) != 0) {
		snprintf(msg, sizeof(msg), "%s is in namespace %s, not %s", t->type, t->ns, ns);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
		return NULL;
	}
	*rns = t->ns;
	*rtype = t->type;
	if (t->sensitive && role < ROLE_ADMIN) {
		snprintf(msg, sizeof(msg), "%s holds secrets: reading it needs os:admin", t->type);
		apicall_finish(c, GRPC_PERMISSION_DENIED, msg);
		return NULL;
	}
	return t;
}

/* A Resource message for r; the caller frees what resource_fini says. */
struct resmsg {
	Basalt__Resource__Resource m;
	struct resfmt_md md;
	uint8_t *spec;
	char *yaml;
};

static int resource_init(struct resmsg *x, const struct res *r)
{
	basalt__resource__resource__init(&x->m);
	if (resfmt_metadata(r, &x->md) < 0)
		return -ENOMEM;
	x->m.meta = &x->md.md;
	x->spec = NULL;
	x->yaml = NULL;
	if (r->spec) {
		size_t n = protobuf_c_message_get_packed_size(r->spec);

		x->spec = malloc(n ? n : 1);
		x->yaml = pbyaml_emit(r->spec, false);
		if (!x->spec || !x->yaml) {
			free(x->spec);
			free(x->yaml);
			resfmt_metadata_fini(&x->md);
			return -ENOMEM;
		}
		protobuf_c_message_pack(r->spec, x->spec);
		x->m.spec.data = x->spec;
		x->m.spec.len = n;
		x->m.spec_type = (char *)r->spec->descriptor->name;
		x->m.spec_yaml = x->yaml;
	}
	return 0;
}

static void resource_fini(struct resmsg *x)
{
	free(x->spec);
	free(x->yaml);
	resfmt_metadata_fini(&x->md);
}

static void rpc_get(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__GetRequest *req = DECODE(c, Basalt__Resource__GetRequest, basalt__resource__get_request__descriptor);
	Basalt__Resource__GetResponse resp = BASALT__RESOURCE__GET_RESPONSE__INIT;
	Basalt__Resource__Resource *mp;
	const char *ns, *type;
	const struct res *r;
	struct resmsg x;
	char msg[400];

	if (!req)
		return;
	if (!resolve(c, role, req->namespace_, req->type, &ns, &type))
		goto out;
	r = store_get(a->st, ns, type, req->id);
	if (!r) {
		snprintf(msg, sizeof(msg), "%.60s/%.100s/%.200s not found", ns, type, req->id);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
		goto out;
	}
	if (resource_init(&x, r) < 0) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	mp = &x.m;
	resp.messages = &mp;
	resp.n_messages = 1;
	api_reply(c, &resp.base);
	resource_fini(&x);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

static int list_one(void *arg, const struct res *r)
{
	struct apicall *c = arg;
	struct resmsg x;
	int s;

	if (resource_init(&x, r) < 0)
		return -1;
	s = api_send(c, &x.m.base);
	resource_fini(&x);
	return s < 0 ? -1 : 0;
}

static void rpc_list(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__ListRequest *req = DECODE(c, Basalt__Resource__ListRequest, basalt__resource__list_request__descriptor);
	struct selector sel;
	const char *ns, *type;
	char err[256];

	if (!req)
		return;
	if (!resolve(c, role, req->namespace_, req->type, &ns, &type))
		goto out;
	if (selector_parse(req->label_selector, &sel, err, sizeof(err)) < 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
		goto out;
	}
	if (store_list(a->st, ns, type, &sel, list_one, c) < 0)
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "could not send the list");
	else
		apicall_finish(c, GRPC_OK, NULL);
	selector_fini(&sel);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

struct wctx {
	struct api *a;
	struct apicall *call;
	struct watch *w;
	bool held;
};

static void watch_end(struct wctx *x, int code, const char *msg)
{
	apicall_on_cancel(x->call, NULL, NULL);
	apicall_on_writable(x->call, NULL, NULL);
	apicall_finish(x->call, code, msg);
	watch_close(x->w);
	free(x);
}

static void watch_drain(struct wctx *x)
{
	struct watch_event ev;

	while (!x->held && watch_next(x->w, &ev)) {
		Basalt__Resource__WatchEvent we = BASALT__RESOURCE__WATCH_EVENT__INIT;
		struct resmsg rm;
		bool has = false;
		int r;

		switch (ev.kind) {
		case WATCH_OVERFLOW:
			watch_event_done(&ev);
			watch_end(x, GRPC_ABORTED, "the watch fell behind and events were lost: watch again");
			return;
		case WATCH_BOOTSTRAPPED:
			we.type = BASALT__RESOURCE__WATCH_EVENT__TYPE__BOOTSTRAPPED;
			break;
		default:
			we.type = ev.kind == WATCH_CREATED   ? BASALT__RESOURCE__WATCH_EVENT__TYPE__CREATED
				  : ev.kind == WATCH_UPDATED ? BASALT__RESOURCE__WATCH_EVENT__TYPE__UPDATED
							     : BASALT__RESOURCE__WATCH_EVENT__TYPE__DESTROYED;
			if (resource_init(&rm, ev.res) < 0) {
				watch_event_done(&ev);
				watch_end(x, GRPC_RESOURCE_EXHAUSTED, "out of memory");
				return;
			}
			we.resource = &rm.m;
			has = true;
		}
		r = api_send(x->call, &we.base);
		if (has)
			resource_fini(&rm);
		watch_event_done(&ev);
		if (r < 0) {
			watch_end(x, GRPC_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		if (r == 1)
			x->held = true;  /* the store keeps queueing, up to its limit */
	}
}

static void watch_ready(void *arg, struct watch *w)
{
	(void)w;
	watch_drain(arg);
}

static void watch_writable(void *arg, struct apicall *c)
{
	struct wctx *x = arg;

	(void)c;
	x->held = false;
	watch_drain(x);
}

static void watch_cancel(void *arg, struct apicall *c)
{
	struct wctx *x = arg;

	(void)c;
	watch_end(x, GRPC_CANCELLED, NULL);
}

static void rpc_watch(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__WatchRequest *req = DECODE(c, Basalt__Resource__WatchRequest, basalt__resource__watch_request__descriptor);
	struct watch_opts wo = { 0 };
	struct wctx *x;
	char err[256];

	if (!req)
		return;
	if (!resolve(c, role, req->namespace_, req->type, &wo.ns, &wo.type))
		goto out;
	x = calloc(1, sizeof(*x));
	if (!x) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	x->a = a;
	x->call = c;
	wo.id = *req->id ? req->id : NULL;
	wo.labels = req->label_selector;
	wo.tail = req->tail;
	wo.ready = watch_ready;
	wo.arg = x;
	if (store_watch(a->st, &wo, &x->w, err, sizeof(err)) < 0) {
		free(x);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
		goto out;
	}
	apicall_on_cancel(c, watch_cancel, x);
	apicall_on_writable(c, watch_writable, x);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void rpc_service_start(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "start");
}

static void rpc_service_stop(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "stop");
}

static void rpc_service_restart(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_service(a, c, "restart");
}

static void rpc_reboot(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_power(a, c, true);
}

static void rpc_shutdown(struct api *a, struct apicall *c, enum pki_role role)
{
	(void)role;
	rpc_power(a, c, false);
}

/* --- Certificate (port 50001): a worker's API server certificate, for the machine token --- */

static bool same_secret(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char d = (unsigned char)(n != m);

	for (size_t i = 0; i < n && i < m; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* A name a certificate may carry: an IP address, or a DNS name of letters, digits, '-' and '.'. */
static bool san_ok(const char *s)
{
	unsigned char buf[16];
	size_t n = strlen(s);

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static void rpc_certificate(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Security__CertificateRequest *req = DECODE(c, Basalt__Security__CertificateRequest,
							   basalt__security__certificate_request__descriptor);
	Basalt__Security__CertificateResponse resp = BASALT__SECURITY__CERTIFICATE_RESPONSE__INIT;
	const Basalt__Config__Config *cfg = a->o.config->cfg;
	const Basalt__Config__Machine *mc = cfg ? cfg->machine : NULL;
	struct pki_subject sub = { .days = API_WORKER_CERT_DAYS, .server = true };
	char *ca_crt = NULL, *ca_key = NULL, *crt = NULL, err[256];

	(void)role;
	if (!req)
		return;
	if (!mc || !mc->type || strcmp(mc->type, "controlplane") != 0 || !mc->ca || !mc->ca->key || !mc->token) {
		apicall_finish(c, GRPC_FAILED_PRECONDITION, "this node signs no certificates: it is not a "
			       "control-plane node holding the OS CA key");
		goto out;
	}
	if (!req->token || !same_secret(req->token, mc->token)) {
		log_warnx("certificate request from %s: wrong machine token", req->peer ? req->peer : "?");
		apicall_finish(c, GRPC_PERMISSION_DENIED, "wrong machine token");
		goto out;
	}
	for (size_t i = 0; i < req->n_names && sub.nsans < PKI_MAX_SANS - 1; i++) {
		if (!san_ok(req->names[i])) {
			snprintf(err, sizeof(err), "names: \"%.64s\" is neither an IP address nor a DNS name",
				 req->names[i]);
			apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
			goto out;
		}
		sub.sans[sub.nsans++] = req->names[i];
	}
	if (req->peer && *req->peer && san_ok(req->peer))
		sub.sans[sub.nsans++] = req->peer;
	if (sub.nsans == 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, "names: none to sign");
		goto out;
	}
	/* The subject: the caller's own name (a DNS name other than localhost) if it gave one. */
	sub.cn = sub.sans[0];
	for (size_t i = 0; i < sub.nsans; i++) {
		unsigned char ip[16];

		if (strcmp(sub.sans[i], "localhost") != 0 && inet_pton(AF_INET, sub.sans[i], ip) != 1 &&
		    inet_pton(AF_INET6, sub.sans[i], ip) != 1) {
			sub.cn = sub.sans[i];
			break;
		}
	}
	ca_crt = pki_b64_decode(mc->ca->crt);
	ca_key = pki_b64_decode(mc->ca->key);
	if (!ca_crt || !ca_key || !req->csr ||
	    pki_issue_csr(&sub, req->csr, strlen(req->csr), ca_crt, ca_key, &crt, err, sizeof(err)) < 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, ca_crt && ca_key ? err : "out of memory");
		goto out;
	}
	log_info("certificate issued to %s (%s, %zu names, %u days)", req->peer ? req->peer : "?", sub.cn,
		 sub.nsans, sub.days);
	resp.ca = ca_crt;
	resp.crt = crt;
	api_reply(c, &resp.base);
out:
	free(crt);
	free(ca_crt);
	pki_free_secret(ca_key);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

typedef void rpc_fn(struct api *a, struct apicall *c, enum pki_role role);

/* The handler of each method of lib/apidef.c's table, by the same index. */
static rpc_fn *const handlers[API_NMETHODS] = {
	[API_VERSION] = rpc_version,
	[API_APPLY_CONFIGURATION] = rpc_apply,
	[API_SERVICE_LIST] = rpc_service_list,
	[API_SERVICE_START] = rpc_service_start,
	[API_SERVICE_STOP] = rpc_service_stop,
	[API_SERVICE_RESTART] = rpc_service_restart,
	[API_LOGS] = rpc_logs,
	[API_DMESG] = rpc_dmesg,
	[API_REBOOT] = rpc_reboot,
	[API_SHUTDOWN] = rpc_shutdown,
	[API_GET] = rpc_get,
	[API_LIST] = rpc_list,
	[API_WATCH] = rpc_watch,
	[API_CERTIFICATE] = rpc_certificate,
};

void api_rpc_dispatch(struct api *a, struct apicall *c, enum api_method_id m, enum pki_role role)
{
	if ((unsigned)m < API_NMETHODS && handlers[m])
		handlers[m](a, c, role);
	else
		apicall_finish(c, GRPC_UNIMPLEMENTED, "not implemented");
}

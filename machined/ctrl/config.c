/* SPDX-License-Identifier: MIT */
#include "machined/ctrl/config.h"

#include "lib/atomicfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "api/runtime.pb-c.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "machined/ctrl/cfgstate.h"

static const struct rt_output outputs[] = {
	{ RES(MACHINE_CONFIG), RT_EXCLUSIVE },
	{ RES(CONFIG_STATUS), RT_EXCLUSIVE },
};

/* The install's refusal belongs in the config's status: the config asks for what the node
 * will not do (InstallController says why). */
static const struct rt_input inputs[] = { { RES(INSTALL_STATUS), RT_WEAK } };

static void set_status(struct config_holder *h, const char *state, const char *source,
		       const char *message)
{
	snprintf(h->state, sizeof(h->state), "%s", state);
	snprintf(h->source, sizeof(h->source), "%s", source);
	snprintf(h->message, sizeof(h->message), "%s", message ? message : "");
}

static void checksum(const char *text, size_t len, char hex[65])
{
	unsigned char sum[32];

	mbedtls_sha256((const unsigned char *)text, len, sum, 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct config_holder *h = arg;
	Basalt__Runtime__ConfigStatus *cs = malloc(sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	basalt__runtime__config_status__init(cs);
	cs->state = strdup(h->state);
	cs->source = strdup(h->source);
	cs->message = strdup(h->message);
	cs->sha256 = strdup(h->cfg ? h->sha256 : "");
	{
		const Basalt__Runtime__InstallStatus *is =
			res_spec(rt_get(ctx, RES(INSTALL_STATUS), "install"), RES(INSTALL_STATUS));

		cs->install = strdup(is && strcmp(is->state, "refused") == 0 ? is->message : "");
	}
	r = rt_apply(ctx, res_new(RES(CONFIG_STATUS), "config", &cs->base));
	if (r == 0 && h->cfg) {
		ProtobufCMessage *copy = res_spec_copy(&h->cfg->base);

		if (!copy)
			return -ENOMEM;
		r = rt_apply(ctx, res_new(RES(MACHINE_CONFIG), MCONFIG_VERSION, copy));
	}
	return r;
}

static void on_try_deadline(void *arg);

int config_init(struct config_holder *h, struct loop *loop, const char *state_dir)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	loop_timer_init(&h->try_timer, on_try_deadline, h);
	set_status(h, "absent", "none", "no machine config yet");
	if (state_dir && !(h->state_dir = strdup(state_dir)))
		return -ENOMEM;
	return 0;
}

static void *holder_of(const struct ctrl_env *env)
{
	return env->config;
}

static int holder_init(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	(void)env;
	((struct config_holder *)state)->ctrl = self;
	return 0;
}

const struct ctrl_def ctrl_machine_config = {
	.rt = { .name = "MachineConfigController", .inputs = inputs, .ninputs = 1,
		.outputs = outputs, .noutputs = 2, .reconcile = reconcile },
	.shared = holder_of,
	.init = holder_init,
};

void config_fini(struct config_holder *h)
{
	if (h->loop)
		loop_timer_cancel(h->loop, &h->try_timer);
	mconfig_free(h->cfg);
	free(h->text);
	free(h->state_dir);
	free(h->id_crt);
	pki_free_secret(h->id_key);
	pki_free_secret(h->committed);
	h->cfg = NULL;
	h->text = h->state_dir = h->id_crt = h->id_key = h->committed = NULL;
}

bool config_maintenance(const struct config_holder *h)
{
	return !h->cfg && !h->id_crt;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Puts cfg (taken over) in force; text is copied. */
static void install(struct config_holder *h, Basalt__Config__Config *cfg, const char *text,
		    size_t len, const char *source, const char *message)
{
	char *copy = strndup(text, len);

	mconfig_free(h->cfg);
	pki_free_secret(h->text);
	h->cfg = cfg;
	h->text = copy;
	checksum(text, len, h->sha256);
	set_status(h, "loaded", source, message);
	/* The one-shot install-config has no controller to tell. */
	if (h->ctrl)
		rt_kick(h->ctrl);
}

/* --- the identity: machine.ca of the last committed config --- */

static void identity_set(struct config_holder *h, const char *crt, const char *key)
{
	char *c = strdup(crt), *k = strdup(key);

	if (!c || !k) {
		free(c);
		pki_free_secret(k);
		return;
	}
	free(h->id_crt);
	pki_free_secret(h->id_key);
	h->id_crt = c;
	h->id_key = k;
}

/* Remembers (and persists) the CA of a committed config, if it changed. */
static void identity_keep(struct config_holder *h, const Basalt__Config__Config *cfg)
{
	const Basalt__Config__CertAndKey *ca = cfg->machine ? cfg->machine->ca : NULL;
	char err[256], *rec;
	int n;

	if (!ca || !ca->crt || !ca->key)
		return;
	if (h->id_crt && strcmp(h->id_crt, ca->crt) == 0 && strcmp(h->id_key, ca->key) == 0)
		return;
	identity_set(h, ca->crt, ca->key);
	if (!h->state_dir)
		return;
	n = asprintf(&rec, "crt: %s\nkey: %s\n", ca->crt, ca->key);
	if (n < 0)
		return;
	if (cfgstate_put(h->state_dir, CFGSTATE_IDENTITY, rec, (size_t)n, err, sizeof(err)) < 0)
		log_warnx("identity not kept: %s", err);
	pki_free_secret(rec);
}

/* Reads the persisted identity; 0 when there is one. */
static int identity_load(struct config_holder *h)
{
	char *text = NULL, why[128], crt[PKI_PEM_MAX * 2], key[PKI_PEM_MAX * 2];
	size_t len;
	int r = cfgstate_load_one(h->state_dir, CFGSTATE_IDENTITY, &text, &len, why, sizeof(why));

	if (r < 0)
		return r;
	if (sscanf(text, "crt: %16383s key: %16383s", crt, key) == 2)
		identity_set(h, crt, key);
	else
		r = -EBADMSG;
	pki_free_secret_n(text, len);
	mbedtls_platform_zeroize(key, sizeof(key));
	return h->id_crt ? 0 : r;
}

/* --- try --- */

static void try_end(struct config_holder *h)
{
	int r;

	if (h->loop)
		loop_timer_cancel(h->loop, &h->try_timer);
	pki_free_secret(h->committed);
	h->committed = NULL;
	if (h->state_dir && (r = cfgstate_remove(h->state_dir, CFGSTATE_TRY)) < 0)
		log_warnx("try: cannot remove %s/%s: %s", h->state_dir, CFGSTATE_TRY, strerror(-r));
}

/* The deadline passed unconfirmed: the committed config is back in force. */
static void try_rollback(struct config_holder *h, const char *why)
{
	Basalt__Config__Config *cfg = NULL;
	char *text = h->committed;
	struct diag d;

	h->committed = NULL;
	diag_init(&d);
	if (text && mconfig_load("config", text, strlen(text), NULL, 0, &cfg, &d) == 0) {
		install(h, cfg, text, strlen(text), "try-rollback", why);
		log_info("try: %s: the previous config is back in force", why);
	} else {
		log_warnx("try: %s, but the previous config no longer validates: the tried one stays", why);
	}
	diag_fini(&d);
	pki_free_secret(text);
	try_end(h);
}

static void on_try_deadline(void *arg)
{
	try_rollback(arg, "not confirmed before its deadline");
}

static void try_arm(struct config_holder *h, uint64_t deadline)
{
	uint64_t now = realtime_ms();
	char msg[160];

	h->try_deadline_ms = deadline;
	loop_timer_arm(h->loop, &h->try_timer, deadline > now ? deadline - now : 0);
	snprintf(msg, sizeof(msg), "on trial: the previous config returns in %llu ms unless this one "
		 "is confirmed", (unsigned long long)(deadline > now ? deadline - now : 0));
	set_status(h, "loaded", "try", msg);
}

int config_try(struct config_holder *h, Basalt__Config__Config *cfg, const char *text, size_t len,
	       uint64_t timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = realtime_ms() + timeout_ms;
	char *rec = NULL;
	int n, r;

	if (!h->loop || !h->cfg) {
		mconfig_free(cfg);
		snprintf(err, errlen, "try needs a config in force to return to");
		return -EINVAL;
	}
	if (h->state_dir) {
		n = asprintf(&rec, "# try-deadline-ms=%llu\n%.*s", (unsigned long long)deadline, (int)len, text);
		if (n < 0) {
			mconfig_free(cfg);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		r = cfgstate_put(h->state_dir, CFGSTATE_TRY, rec, (size_t)n, err, errlen);
		pki_free_secret(rec);
		if (r < 0) {
			mconfig_free(cfg);
			return r;
		}
	}
	/* A try over a try keeps returning to the config before the first. */
	if (!h->committed && !(h->committed = strdup(h->text))) {
		mconfig_free(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	install(h, cfg, text, len, "try", "");
	try_arm(h, deadline);
	return 0;
}

/* At boot, with the committed config in force: a try record is resumed or rolled back. */
static void try_resolve(struct config_holder *h)
{
	Basalt__Config__Config *cfg = NULL;
	unsigned long long deadline;
	char *text = NULL, why[128];
	const char *body;
	size_t len;
	struct diag d;
	int r = cfgstate_load_one(h->state_dir, CFGSTATE_TRY, &text, &len, why, sizeof(why));

	if (r == -ENOENT)
		return;
	diag_init(&d);
	if (r < 0 || sscanf(text, "# try-deadline-ms=%llu", &deadline) != 1 || !(body = strchr(text, '\n'))) {
		log_warnx("try record %s/%s unusable (%s): the committed config stays in force", h->state_dir,
			  CFGSTATE_TRY, r < 0 ? why : "no deadline");
	} else if (!h->cfg || !h->loop) {
		log_warnx("try record found without a committed config: dropped");
	} else if (deadline <= realtime_ms()) {
		log_info("try: its deadline passed while machined was down: the config before the try "
			 "stays in force");
	} else if (mconfig_load(CFGSTATE_TRY, body + 1, len - (size_t)(body + 1 - text), NULL, 0, &cfg, &d) < 0) {
		log_warnx("try: the tried config no longer validates: the committed config stays in force");
	} else if ((h->committed = strdup(h->text))) {
		install(h, cfg, body + 1, len - (size_t)(body + 1 - text), "try", "");
		try_arm(h, deadline);
		log_info("try: resumed after a restart: %llu ms left before the previous config returns",
			 deadline - realtime_ms());
		cfg = NULL;
		pki_free_secret_n(text, len);
		diag_fini(&d);
		return;
	}
	mconfig_free(cfg);
	diag_fini(&d);
	pki_free_secret_n(text, len);
	try_end(h);
}

/* --- boot --- */

/* Validates one persisted copy; 0 with *cfg, or -EINVAL with the problems in msg. */
static int boot_validate(const char *name, const char *text, size_t len, Basalt__Config__Config **cfg,
			 char **msg)
{
	struct diag d;
	int r;

	diag_init(&d);
	r = mconfig_load(name, text, len, NULL, 0, cfg, &d);
	if (r < 0 && (*msg = diag_format(&d))) {
		/* One line for the console and ConfigStatus: the problems joined by "; ". */
		size_t n = strlen(*msg);

		while (n && (*msg)[n - 1] == '\n')
			(*msg)[--n] = '\0';
		for (char *p = *msg; (p = strchr(p, '\n'));)
			*p = ';';
	}
	diag_fini(&d);
	return r;
}

/* No usable config: the known identity keeps the API on mutual TLS, or maintenance mode. */
static void boot_without_config(struct config_holder *h, const char *state, const char *why)
{
	char msg[1024];

	if (identity_load(h) == 0) {
		snprintf(msg, sizeof(msg), "%s; the API keeps serving mutual TLS with the CA of the last "
			 "config in force: apply a config with osctl and a client certificate of that CA",
			 why);
		log_console("%s", msg);
	} else {
		snprintf(msg, sizeof(msg), "%s", why);
		log_warnx("%s", msg);
	}
	set_status(h, state, "state", msg);
	rt_kick(h->ctrl);
}

void config_boot(struct config_holder *h, const char *url, bool maintenance)
{
	char report[1024], why[128], *text = NULL, *msg = NULL, *msg2 = NULL, *prev = NULL;
	Basalt__Config__Config *cfg = NULL;
	size_t len, plen = 0;
	int r;

	if (!h->state_dir) {
		rt_kick(h->ctrl);
		return;
	}
	if (maintenance) {
		/* Chosen at the machine (the boot menu's maintenance entry): neither the config
		 * nor the identity kept in STATE is used, so a config can be applied afresh. */
		snprintf(report, sizeof(report), "maintenance boot (basalt.maintenance=1): the config "
			 "and identity in %s are not used; waiting in maintenance mode for a config to be "
			 "applied", h->state_dir);
		set_status(h, "absent", "state", report);
		log_console("%s", report);
		rt_kick(h->ctrl);
		return;
	}
	r = cfgstate_load(h->state_dir, &text, &len, report, sizeof(report));
	if (r == -ENOENT) {
		if (url)
			snprintf(report, sizeof(report), "no persisted config in %s: fetching one from "
				 "basalt.config=%s (maintenance mode until it arrives)", h->state_dir, url);
		else
			snprintf(report, sizeof(report), "no persisted config in %s: waiting in maintenance "
				 "mode for one to be applied", h->state_dir);
		boot_without_config(h, "absent", report);
		return;
	}
	if (r < 0) {
		snprintf(report + strlen(report), sizeof(report) - strlen(report), "; persisted config unusable");
		boot_without_config(h, "invalid", report);
		return;
	}
	if (report[0])
		log_warnx("%s", report);
	if (boot_validate(CFGSTATE_CURRENT, text, len, &cfg, &msg) < 0) {
		/* A copy that no longer validates: the other copy, if it does. */
		if (!report[0] &&
		    cfgstate_load_one(h->state_dir, CFGSTATE_PREVIOUS, &prev, &plen, why, sizeof(why)) == 0 &&
		    boot_validate(CFGSTATE_PREVIOUS, prev, plen, &cfg, &msg2) == 0) {
			snprintf(report, sizeof(report), "%s/%s does not validate (%s); using the last good "
				 "copy %s", h->state_dir, CFGSTATE_CURRENT, msg ? msg : "", CFGSTATE_PREVIOUS);
			log_console("%s", report);
			pki_free_secret_n(text, len);
			text = prev;
			len = plen;
			prev = NULL;
		} else {
			snprintf(report, sizeof(report), "persisted config does not validate: %s", msg ? msg : "");
			boot_without_config(h, "invalid", report);
			goto out;
		}
	}
	log_info("machine config loaded from %s", h->state_dir);
	identity_keep(h, cfg);
	install(h, cfg, text, len, "state", report);
	try_resolve(h);
out:
	free(msg);
	free(msg2);
	pki_free_secret_n(prev, prev ? plen : 0);
	pki_free_secret_n(text, text ? len : 0);
}

int config_put(struct config_holder *h, const char *source, Basalt__Config__Config *cfg,
	       const char *text, size_t len, char *err, size_t errlen)
{
	int r;

	if (h->state_dir) {
		r = cfgstate_save(h->state_dir, text, len, err, errlen);
		if (r < 0) {
			mconfig_free(cfg);
			return r;
		}
	}
	if (h->committed) {
		try_end(h);
		log_info("try: confirmed");
	}
	identity_keep(h, cfg);
	install(h, cfg, text, len, source, "");
	return 0;
}

int config_apply(struct config_holder *h, const char *source, const char *name, const char *text,
		 size_t len, const struct mconfig_patch *patches, size_t npatches, struct diag *d,
		 char *err, size_t errlen)
{
	Basalt__Config__Config *cfg = NULL;
	char *merged = NULL;
	int r = mconfig_load(name, text, len, patches, npatches, &cfg, d);

	if (r < 0)
		return r;
	/* With patches, what is kept is the patched config, not the input. */
	if (npatches) {
		merged = mconfig_emit(cfg, false);
		if (!merged) {
			mconfig_free(cfg);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		text = merged;
		len = strlen(merged);
	}
	r = config_put(h, source, cfg, text, len, err, errlen);
	pki_free_secret(merged);
	return r;
}

int config_stage(struct config_holder *h, const char *text, size_t len, char *err, size_t errlen)
{
	int r;

	if (!h->state_dir) {
		snprintf(err, errlen, "no state directory: a staged config could not be kept");
		return -ENOTSUP;
	}
	r = cfgstate_save(h->state_dir, text, len, err, errlen);
	if (r == 0)
		log_info("a config is staged for the next boot");
	return r;
}

int config_forget(struct config_holder *h, char *err, size_t errlen)
{
	static const char *const kept[] = { CFGSTATE_CURRENT, CFGSTATE_PREVIOUS, CFGSTATE_TRY, CFGSTATE_IDENTITY };

	if (!h->state_dir)
		return 0;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		int r = cfgstate_remove(h->state_dir, kept[i]);

		if (r < 0) {
			snprintf(err, errlen, "remove %s/%s: %s", h->state_dir, kept[i], strerror(-r));
			return r;
		}
	}
	return atomic_sync_dir(h->state_dir, err, errlen);
}

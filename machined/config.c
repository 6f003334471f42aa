/* SPDX-License-Identifier: MIT */
#include "machined/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "api/runtime.pb-c.h"
#include "lib/log.h"
#include "machined/cfgstate.h"

static const struct rt_output outputs[] = {
	{ "config", "MachineConfig", RT_EXCLUSIVE },
	{ "runtime", "ConfigStatus", RT_EXCLUSIVE },
};

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
	r = rt_apply(ctx, res_new("runtime", "ConfigStatus", "config", &cs->base));
	if (r == 0 && h->cfg) {
		ProtobufCMessage *copy = res_spec_copy(&h->cfg->base);

		if (!copy)
			return -ENOMEM;
		r = rt_apply(ctx, res_new("config", "MachineConfig", MCONFIG_VERSION, copy));
	}
	return r;
}

int config_register(struct config_holder *h, struct rt *rt, const char *state_dir, char *err,
		    size_t errlen)
{
	struct rt_controller def = { "MachineConfigController", NULL, 0, outputs, 2, reconcile, h };

	memset(h, 0, sizeof(*h));
	set_status(h, "absent", "none", "no machine config yet");
	if (state_dir && !(h->state_dir = strdup(state_dir)))
		return -ENOMEM;
	return rt_register(rt, &def, &h->ctrl, err, errlen);
}

void config_fini(struct config_holder *h)
{
	mconfig_free(h->cfg);
	free(h->state_dir);
	h->cfg = NULL;
	h->state_dir = NULL;
}

/* Puts cfg (taken over) in force. */
static void install(struct config_holder *h, Basalt__Config__Config *cfg, const char *text,
		    size_t len, const char *source, const char *message)
{
	mconfig_free(h->cfg);
	h->cfg = cfg;
	checksum(text, len, h->sha256);
	set_status(h, "loaded", source, message);
	/* The one-shot install-config has no controller to tell. */
	if (h->ctrl)
		rt_kick(h->ctrl);
}

void config_boot(struct config_holder *h, const char *url)
{
	char report[1024], *text = NULL, *msg;
	Basalt__Config__Config *cfg = NULL;
	struct diag d;
	size_t len;
	int r;

	if (!h->state_dir) {
		rt_kick(h->ctrl);
		return;
	}
	r = cfgstate_load(h->state_dir, &text, &len, report, sizeof(report));
	if (r == -ENOENT) {
		if (url)
			snprintf(report, sizeof(report), "no persisted config in %s; basalt.config=%s is set, "
				 "but fetching a config over the network is not implemented yet: apply one "
				 "through the API", h->state_dir, url);
		else
			snprintf(report, sizeof(report), "no persisted config in %s: waiting in maintenance "
				 "mode for one to be applied", h->state_dir);
		log_info("%s", report);
		set_status(h, "absent", "none", report);
		rt_kick(h->ctrl);
		return;
	}
	if (r < 0) {
		log_warnx("persisted config unusable: %s", report);
		set_status(h, "invalid", "state", report);
		rt_kick(h->ctrl);
		return;
	}
	if (report[0])
		log_warnx("%s", report);
	diag_init(&d);
	if (mconfig_load(CFGSTATE_CURRENT, text, len, NULL, 0, &cfg, &d) < 0) {
		msg = diag_format(&d);
		log_warnx("persisted config does not validate:\n%s", msg ? msg : "");
		set_status(h, "invalid", "state", msg ? msg : "does not validate");
		free(msg);
		rt_kick(h->ctrl);
	} else {
		log_info("machine config loaded from %s", h->state_dir);
		install(h, cfg, text, len, "state", report);
	}
	diag_fini(&d);
	free(text);
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
	free(merged);
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

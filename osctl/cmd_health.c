/* SPDX-License-Identifier: MIT */
/*
 * osctl health [--wait] [--wait-timeout S]: whether every node (the context's, or -n) is
 * healthy: its API answers (through the endpoint, over mutual TLS), it runs with its config
 * and every service it wants up (MachineStatus, ServiceList), and its clock is in sync
 * (TimeStatus; a container's clock is its host's). One table row per node; exit status 0
 * only when all are healthy. With --wait it asks again every 2 s until they are or the
 * timeout passes, saying what it still waits for when that changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/network.pb-c.h"
#include "api/resource.pb-c.h"
#include "api/runtime.pb-c.h"
#include "osctl/osctl.h"

struct node_health {
	char node[80];
	char api[160], stage[64], services[200], time[200];
	bool api_ok, stage_ok, services_ok, time_ok;
	bool container;
};

struct health {
	struct node_health n[OSC_MAX_LIST];
	size_t count;
};

static struct node_health *slot(struct osc *o, struct health *h, const Basalt__Resource__NodeMetadata *md)
{
	const char *name = osc_node_name(o, md);

	for (size_t i = 0; i < h->count; i++)
		if (strcmp(h->n[i].node, name) == 0)
			return &h->n[i];
	return NULL;
}

static void all_unreachable(struct health *h, const char *why)
{
	for (size_t i = 0; i < h->count; i++) {
		snprintf(h->n[i].api, sizeof(h->n[i].api), "%s", why);
		h->n[i].api_ok = false;
	}
}

/* A resource of each node (Get ns/type/id): fn with its spec bytes, per node. */
static int get_each(struct osc *o, struct health *h, const char *ns, const char *type, const char *id,
		    void (*fn)(struct node_health *n, const Basalt__Resource__Resource *r))
{
	Basalt__Resource__GetRequest req = BASALT__RESOURCE__GET_REQUEST__INIT;
	Basalt__Resource__GetResponse *resp;
	struct buf b;

	req.namespace_ = (char *)ns;
	req.type = (char *)type;
	req.id = (char *)id;
	buf_init(&b);
	if (osc_unary(o, API_GET, &req.base, &b) < 0) {
		buf_fini(&b);
		return -1;
	}
	resp = (void *)protobuf_c_message_unpack(&basalt__resource__get_response__descriptor, NULL, b.len, b.data);
	buf_fini(&b);
	for (size_t i = 0; resp && i < resp->n_messages; i++) {
		const Basalt__Resource__Resource *r = resp->messages[i];
		struct node_health *n = slot(o, h, r->metadata);

		if (n && !(r->metadata && r->metadata->error && *r->metadata->error))
			fn(n, r);
	}
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

static void on_platform(struct node_health *n, const Basalt__Resource__Resource *r)
{
	Basalt__Runtime__PlatformMetadata *p = (void *)protobuf_c_message_unpack(
		&basalt__runtime__platform_metadata__descriptor, NULL, r->spec.len, r->spec.data);

	n->container = p && p->platform && strcmp(p->platform, "container") == 0;
	if (p)
		protobuf_c_message_free_unpacked(&p->base, NULL);
}

static void on_machine(struct node_health *n, const Basalt__Resource__Resource *r)
{
	Basalt__Runtime__MachineStatus *m = (void *)protobuf_c_message_unpack(
		&basalt__runtime__machine_status__descriptor, NULL, r->spec.len, r->spec.data);

	if (!m)
		return;
	n->stage_ok = strcmp(m->stage, "running") == 0 && m->ready && m->ready->config;
	snprintf(n->stage, sizeof(n->stage), "%s%s", m->stage, m->ready && !m->ready->config ? " (no config)" : "");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void on_time(struct node_health *n, const Basalt__Resource__Resource *r)
{
	Basalt__Network__TimeStatus *t = (void *)protobuf_c_message_unpack(&basalt__network__time_status__descriptor,
									   NULL, r->spec.len, r->spec.data);

	if (!t)
		return;
	if (n->container) {
		n->time_ok = true;
		snprintf(n->time, sizeof(n->time), "the host's clock (a container)");
	} else if (t->synced) {
		n->time_ok = true;
		snprintf(n->time, sizeof(n->time), "in sync with %s (%+.3f ms)", t->server, (double)t->offsetns / 1e6);
	} else if (strncmp(t->error, "no time servers", 15) == 0 || strncmp(t->error, "time sync is off", 16) == 0) {
		/* Nothing to be in sync with: said, not held against the node. */
		n->time_ok = true;
		snprintf(n->time, sizeof(n->time), "not checked: %s", t->error);
	} else {
		snprintf(n->time, sizeof(n->time), "not in sync: %s", *t->error ? t->error : "no answer yet");
	}
	protobuf_c_message_free_unpacked(&t->base, NULL);
}

/* One round: every node's API, stage, services and time into h. */
static void ask(struct osc *o, struct health *h)
{
	Basalt__Machine__ServiceListRequest req = BASALT__MACHINE__SERVICE_LIST_REQUEST__INIT;
	Basalt__Machine__ServiceListResponse *resp;
	struct buf b;

	for (size_t i = 0; i < h->count; i++) {
		struct node_health *n = &h->n[i];
		char name[80];

		snprintf(name, sizeof(name), "%s", n->node);
		memset(n, 0, sizeof(*n));
		snprintf(n->node, sizeof(n->node), "%s", name);
		snprintf(n->api, sizeof(n->api), "no reply");
		snprintf(n->stage, sizeof(n->stage), "-");
		snprintf(n->services, sizeof(n->services), "-");
		snprintf(n->time, sizeof(n->time), "-");
	}
	buf_init(&b);
	if (osc_unary(o, API_SERVICE_LIST, &req.base, &b) < 0) {
		char why[160];

		snprintf(why, sizeof(why), "unreachable through %s", o->endpoint[0] ? o->endpoint : "the endpoint");
		all_unreachable(h, why);
		buf_fini(&b);
		osc_close(o);
		return;
	}
	resp = (void *)protobuf_c_message_unpack(&basalt__machine__service_list_response__descriptor, NULL, b.len, b.data);
	buf_fini(&b);
	for (size_t i = 0; resp && i < resp->n_messages; i++) {
		const Basalt__Machine__ServiceList *l = resp->messages[i];
		struct node_health *n = slot(o, h, l->metadata);
		size_t up = 0, bad = 0;
		char down[120] = "";

		if (!n)
			continue;
		if (l->metadata && l->metadata->error && *l->metadata->error) {
			snprintf(n->api, sizeof(n->api), "%s", l->metadata->error);
			continue;
		}
		n->api_ok = true;
		snprintf(n->api, sizeof(n->api), "ok");
		for (size_t k = 0; k < l->n_services; k++) {
			const Basalt__Machine__ServiceInfo *s = l->services[k];

			if (strcmp(s->state, "running") == 0 || strcmp(s->state, "finished") == 0) {
				up++;
			} else {
				size_t dl = strlen(down);

				bad++;
				snprintf(down + dl, sizeof(down) - dl, "%s%s %s", dl ? ", " : "", s->id, s->state);
			}
		}
		n->services_ok = bad == 0 && up > 0;
		snprintf(n->services, sizeof(n->services), "%zu/%zu running%s%s", up, l->n_services, bad ? ": " : "", down);
	}
	if (resp)
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	if (get_each(o, h, "runtime", "PlatformMetadata", "platform", on_platform) < 0 ||
	    get_each(o, h, "runtime", "MachineStatus", "machine", on_machine) < 0 ||
	    get_each(o, h, "network", "TimeStatus", "time", on_time) < 0)
		osc_close(o);
}

static bool healthy(const struct node_health *n)
{
	return n->api_ok && n->stage_ok && n->services_ok && n->time_ok;
}

/* What a node still lacks, for --wait's progress lines. */
static void lacks(const struct node_health *n, char *out, size_t len)
{
	if (!n->api_ok)
		snprintf(out, len, "its API: %s", n->api);
	else if (!n->stage_ok)
		snprintf(out, len, "its stage: %s", n->stage);
	else if (!n->services_ok)
		snprintf(out, len, "its services: %s", n->services);
	else if (!n->time_ok)
		snprintf(out, len, "its clock: %s", n->time);
	else
		snprintf(out, len, "healthy");
}

int cmd_health(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--wait-timeout", NULL };
	static const char *const flags[] = { "--wait", NULL };
	const char *v = osc_opt(argc, argv, "--wait-timeout", NULL);
	bool wait = osc_flag(argc, argv, "--wait", NULL);
	struct health *h = calloc(1, sizeof(*h));
	char last[OSC_MAX_LIST][240];
	time_t deadline;
	struct table t;
	size_t good = 0;
	long secs = 300;
	bool all;

	if (!h || osc_check_args(argc, argv, tv, flags, 0) < 0) {
		free(h);
		return 2;
	}
	if (v) {
		char *end = NULL;

		secs = strtol(v, &end, 10);
		if (!wait || !*v || *end || secs < 1 || secs > 86400) {
			fprintf(stderr, "osctl: health: --wait-timeout %s: %s\n", v,
				wait ? "whole seconds, 1 to 86400" : "only with --wait");
			free(h);
			return 2;
		}
	}
	if (osc_connect(o) < 0) {
		free(h);
		return 1;
	}
	o->nodes_set = true;   /* reconnecting keeps the list, not adding the context's again */
	if (o->nnodes == 0) {
		snprintf(h->n[0].node, sizeof(h->n[0].node), "%s", o->endpoint);
		h->count = 1;
	}
	for (size_t i = 0; i < o->nnodes; i++)
		snprintf(h->n[h->count++].node, sizeof(h->n[0].node), "%s", o->nodes[i]);
	memset(last, 0, sizeof(last));
	deadline = time(NULL) + secs;
	for (;;) {
		ask(o, h);
		good = 0;
		for (size_t i = 0; i < h->count; i++) {
			char now[240];

			good += healthy(&h->n[i]);
			lacks(&h->n[i], now, sizeof(now));
			if (wait && strcmp(now, last[i]) != 0) {
				printf("%s: %s%s\n", h->n[i].node, healthy(&h->n[i]) ? "" : "waiting for ", now);
				fflush(stdout);
				snprintf(last[i], sizeof(last[i]), "%s", now);
			}
		}
		if (!wait || good == h->count || time(NULL) >= deadline)
			break;
		sleep(2);
	}
	table_init(&t, 6);
	table_add(&t, "NODE", "HEALTHY", "API", "STAGE", "SERVICES", "TIME");
	for (size_t i = 0; i < h->count; i++)
		table_add(&t, h->n[i].node, healthy(&h->n[i]) ? "yes" : "NO", h->n[i].api, h->n[i].stage, h->n[i].services,
			  h->n[i].time);
	table_print(&t);
	table_fini(&t);
	all = good == h->count;
	if (!all)
		fprintf(stderr, "osctl: health: %zu of %zu nodes healthy%s\n", good, h->count,
			wait ? " when the wait ended" : "");
	free(h);
	return all ? 0 : 1;
}

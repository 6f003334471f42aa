/* SPDX-License-Identifier: MIT */
/* osctl's commands about a node's services and power, and its version: version, services, service, logs, dmesg, reboot, shutdown. */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/apidef.h"
#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "lib/pbyaml.h"
#include "osctl/osctl.h"


#ifndef BASALT_VERSION
#error "BASALT_VERSION is set by the build from the VERSION file"
#endif

/* --- version --- */

int cmd_version(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__VersionRequest req = BASALT__MACHINE__VERSION_REQUEST__INIT;
	Basalt__Machine__VersionResponse *resp;
	struct buf b;
	int r = 0;

	printf("Client:\n\tBasalt osctl %s\n", BASALT_VERSION);
	if (osc_flag(argc, argv, "--client", NULL))
		return 0;
	buf_init(&b);
	if (osc_unary(o, API_VERSION, &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = osc_unpack(&basalt__machine__version_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	printf("Server:\n");
	for (size_t i = 0; i < resp->n_messages; i++) {
		Basalt__Machine__VersionInfo *v = resp->messages[i];

		if (osc_node_error(o, v->metadata)) {
			r = 1;
			continue;
		}
		printf("\tNODE:        %s\n\tTag:         %s\n\tName:        %s\n\tKernel:      %s\n"
		       "\tArch:        %s\n\tHostname:    %s\n%s",
		       osc_node_name(o, v->metadata), v->version, v->name, v->kernel, v->arch, v->hostname,
		       v->maintenance ? "\tMaintenance: yes (no machine config yet)\n" : "");
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

/* --- services --- */

static int service_list(struct osc *o, const char *only)
{
	Basalt__Machine__ServiceListRequest req = BASALT__MACHINE__SERVICE_LIST_REQUEST__INIT;
	Basalt__Machine__ServiceListResponse *resp;
	struct table t;
	struct buf b;
	int r = 0, found = 0;

	buf_init(&b);
	if (osc_unary(o, API_SERVICE_LIST, &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = osc_unpack(&basalt__machine__service_list_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	table_init(&t, 7);
	table_add(&t, "NODE", "SERVICE", "STATE", "HEALTH", "PID", "RESTARTS", "MESSAGE");
	for (size_t i = 0; i < resp->n_messages; i++) {
		Basalt__Machine__ServiceList *l = resp->messages[i];

		if (osc_node_error(o, l->metadata)) {
			r = 1;
			continue;
		}
		for (size_t k = 0; k < l->n_services; k++) {
			Basalt__Machine__ServiceInfo *s = l->services[k];
			char pid[16], rs[16];

			if (only && strcmp(only, s->id) != 0)
				continue;
			found++;
			snprintf(pid, sizeof(pid), "%d", s->pid);
			snprintf(rs, sizeof(rs), "%u", s->restarts);
			table_add(&t, osc_node_name(o, l->metadata), s->id, s->state,
				  s->healthy ? "OK" : "?", s->pid ? pid : "-", rs, s->message);
		}
	}
	if (only && !found && !r) {
		fprintf(stderr, "osctl: no service %s\n", only);
		r = 1;
	} else {
		table_print(&t);
	}
	table_fini(&t);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

int cmd_services(struct osc *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return service_list(o, NULL);
}

int cmd_service(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__ServiceRequest req = BASALT__MACHINE__SERVICE_REQUEST__INIT;
	Basalt__Machine__ServiceActionResponse *resp;
	const char *id = osc_positional(argc, argv, 0, NULL), *action = osc_positional(argc, argv, 1, NULL);
	enum api_method_id method;
	struct buf b;
	int r = 0;

	if (!id) {
		fprintf(stderr, "usage: osctl service ID [start|stop|restart]\n");
		return 2;
	}
	if (!action || strcmp(action, "status") == 0)
		return service_list(o, id);
	if (strcmp(action, "start") == 0)
		method = API_SERVICE_START;
	else if (strcmp(action, "stop") == 0)
		method = API_SERVICE_STOP;
	else if (strcmp(action, "restart") == 0)
		method = API_SERVICE_RESTART;
	else {
		fprintf(stderr, "osctl: service %s: unknown action %s (start, stop, restart)\n", id, action);
		return 2;
	}
	req.id = (char *)id;
	buf_init(&b);
	if (osc_unary(o, method, &req.base, &b) < 0) {
		buf_fini(&b);
		return 1;
	}
	resp = osc_unpack(&basalt__machine__service_action_response__descriptor, &b);
	buf_fini(&b);
	if (!resp)
		return 1;
	for (size_t i = 0; i < resp->n_messages; i++) {
		if (osc_node_error(o, resp->messages[i]->metadata)) {
			r = 1;
			continue;
		}
		printf("%s: %s: %s\n", osc_node_name(o, resp->messages[i]->metadata), id, resp->messages[i]->result);
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return r;
}

/* --- logs, dmesg --- */

int osc_on_data(void *arg, const uint8_t *p, size_t len)
{
	struct osc_datactx *d = arg;
	Basalt__Machine__Data *m = (void *)protobuf_c_message_unpack(&basalt__machine__data__descriptor, NULL, len, p);

	if (!m)
		return 1;
	if (osc_node_error(d->o, m->metadata))
		d->rc = 1;
	else if (m->bytes.len && fwrite(m->bytes.data, 1, m->bytes.len, stdout) != m->bytes.len)
		d->rc = 1;
	fflush(stdout);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return 0;
}

int cmd_logs(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--tail", NULL };
	Basalt__Machine__LogsRequest req = BASALT__MACHINE__LOGS_REQUEST__INIT;
	const char *id = osc_positional(argc, argv, 0, tv), *tail = osc_opt(argc, argv, "--tail", NULL);
	struct osc_datactx d = { .o = o };

	if (!id) {
		fprintf(stderr, "usage: osctl logs SERVICE [-f] [--tail N]\n");
		return 2;
	}
	req.id = (char *)id;
	req.follow = osc_flag(argc, argv, "-f", "--follow");
	if (tail) {
		char *end;
		long n = strtol(tail, &end, 10);

		if (*end || n < 0 || n > 1000000) {
			fprintf(stderr, "osctl: --tail %s: expected a number of lines\n", tail);
			return 2;
		}
		req.tail_lines = n == 0 ? -1 : (int)n;
	}
	return osc_stream(o, API_LOGS, &req.base, osc_on_data, &d) < 0 || d.rc;
}

int cmd_dmesg(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__DmesgRequest req = BASALT__MACHINE__DMESG_REQUEST__INIT;
	struct osc_datactx d = { .o = o };

	req.follow = osc_flag(argc, argv, "-f", "--follow");
	req.tail = osc_flag(argc, argv, "--tail", NULL);
	return osc_stream(o, API_DMESG, &req.base, osc_on_data, &d) < 0 || d.rc;
}

/* --- reboot, shutdown --- */

/*
 * Prints "node: what" for each per-node message of a reply shaped like every unary reply
 * here ({repeated X messages = 1} with X.metadata = 1), or the node's error. 0, or 1 if a
 * node failed.
 */
static int report_nodes(struct osc *o, const ProtobufCMessage *resp, const char *what)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(resp->descriptor, 1);
	size_t n = *(const size_t *)((const char *)resp + f->quantifier_offset);
	ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)((const char *)resp + f->offset);
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *mf = protobuf_c_message_descriptor_get_field(v[i]->descriptor, 1);
		const Basalt__Resource__NodeMetadata *md =
			*(Basalt__Resource__NodeMetadata *const *)((const char *)v[i] + mf->offset);

		if (osc_node_error(o, md))
			r = 1;
		else
			printf("%s: %s\n", osc_node_name(o, md), what);
	}
	return r;
}

int cmd_power(struct osc *o, int argc, char **argv, bool reboot)
{
	Basalt__Machine__RebootRequest rq = BASALT__MACHINE__REBOOT_REQUEST__INIT;
	Basalt__Machine__ShutdownRequest sq = BASALT__MACHINE__SHUTDOWN_REQUEST__INIT;
	const ProtobufCMessageDescriptor *d = reboot ? &basalt__machine__reboot_response__descriptor
						     : &basalt__machine__shutdown_response__descriptor;
	ProtobufCMessage *resp = NULL;
	struct buf b;
	int r = 1;

	(void)argc;
	(void)argv;
	buf_init(&b);
	if (osc_unary(o, reboot ? API_REBOOT : API_SHUTDOWN, reboot ? &rq.base : &sq.base, &b) == 0 &&
	    (resp = osc_unpack(d, &b))) {
		r = report_nodes(o, resp, reboot ? "rebooting" : "shutting down");
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	buf_fini(&b);
	return r;
}


/* --- reset --- */

int cmd_reset(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__ResetRequest req = BASALT__MACHINE__RESET_REQUEST__INIT;
	Basalt__Machine__ResetResponse *resp = NULL;
	const char *wipe = osc_opt(argc, argv, "--wipe", NULL);
	char list[128], *labels[4], *save = NULL;
	struct buf b;
	int r = 1;

	req.graceful = !osc_flag(argc, argv, "--graceful=false", NULL);
	req.reboot = osc_flag(argc, argv, "--reboot", NULL);
	if (wipe) {
		if (strlen(wipe) >= sizeof(list)) {
			fprintf(stderr, "osctl: --wipe %s: expected STATE, EPHEMERAL or STATE,EPHEMERAL\n", wipe);
			return 2;
		}
		snprintf(list, sizeof(list), "%s", wipe);
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if ((strcmp(t, "STATE") != 0 && strcmp(t, "EPHEMERAL") != 0) || req.n_wipe == 4) {
				fprintf(stderr, "osctl: --wipe %s: expected STATE, EPHEMERAL or STATE,EPHEMERAL\n", wipe);
				return 2;
			}
			labels[req.n_wipe++] = t;
		}
		req.wipe = labels;
	}
	buf_init(&b);
	if (osc_unary(o, API_RESET, &req.base, &b) == 0 &&
	    (resp = osc_unpack(&basalt__machine__reset_response__descriptor, &b))) {
		r = 0;
		for (size_t i = 0; i < resp->n_messages; i++) {
			const Basalt__Machine__Reset *m = resp->messages[i];

			if (osc_node_error(o, m->metadata))
				r = 1;
			else
				printf("%s: reset: %s\n", osc_node_name(o, m->metadata), m->message);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	buf_fini(&b);
	return r;
}

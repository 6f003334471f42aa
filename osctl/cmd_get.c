/* SPDX-License-Identifier: MIT */
/* osctl get: resources, tables, YAML or JSON, and watches. */
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
#include "lib/restypes.h"
#include "osctl/osctl.h"


/* --- get --- */

enum outfmt { OUT_TABLE, OUT_YAML, OUT_JSON };

struct getctx {
	struct osc *o;
	const struct res_type *type;  /* the type as this osctl knows it (NULL: no columns) */
	size_t ncols;               /* its columns */
	enum outfmt fmt;
	struct table t;
	bool watch;
	int rc;
};

/* A node's spec_yaml as one line of JSON. The text comes from the network: it goes
 * through pbyaml_parse's guards (size, UTF-8, tabs, depth) like any config. */
static char *yaml_to_json(const char *yaml)
{
	struct diag d;
	struct fy_document *fyd;
	char *out;

	diag_init(&d);
	fyd = pbyaml_parse("spec", yaml, strlen(yaml), &d);
	diag_fini(&d);
	if (!fyd)
		return NULL;
	out = pbyaml_json_line(fy_document_root(fyd));
	fy_document_destroy(fyd);
	return out;
}

/*
 * The type's table columns of one resource: each spec field as YAML shows it, or its
 * default (proto3 leaves zero values out) when the spec does not name it.
 */
static void spec_cells(const struct getctx *g, const char *yaml, char cells[RES_COLUMNS_MAX][96])
{
	struct fy_document *fyd = NULL;
	struct fy_node *root = NULL;
	struct diag d;

	if (!g->ncols)
		return;
	diag_init(&d);
	if (yaml && *yaml && (fyd = pbyaml_parse("spec", yaml, strlen(yaml), &d)))
		root = fy_document_root(fyd);
	diag_fini(&d);
	for (size_t i = 0; i < g->ncols; i++) {
		const char *field = g->type->columns[i].field;
		struct fy_node *n = root && fy_node_is_mapping(root) ?
					    fy_node_mapping_lookup_by_string(root, field, FY_NT) : NULL;
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(g->type->spec, field);
		const char *v = n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
		char list[96] = "";

		if (n && fy_node_is_sequence(n)) {  /* a list of scalars: joined by commas */
			struct fy_node *e;
			void *it = NULL;
			size_t len = 0;

			while ((e = fy_node_sequence_iterate(n, &it)) && len < sizeof(list))
				if (fy_node_is_scalar(e))
					len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "",
								fy_node_get_scalar0(e));
			v = list;
		}

		if (!v)
			v = !f || n ? "" : f->type == PROTOBUF_C_TYPE_BOOL ? "false"
			  : f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE ? "" : "0";
		snprintf(cells[i], sizeof(cells[i]), "%s", v);
	}
	if (fyd)
		fy_document_destroy(fyd);
}

static const char *event_name(int t)
{
	switch (t) {
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__CREATED:
		return "created";
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__UPDATED:
		return "updated";
	case BASALT__RESOURCE__WATCH_EVENT__TYPE__DESTROYED:
		return "destroyed";
	default:
		return "bootstrapped";
	}
}

/* node: the event's node for a watch (its resource carries none), else NULL. */
static void show_resource(struct getctx *g, const Basalt__Resource__Resource *r, const char *event,
			  const char *node)
{
	if (!node)
		node = osc_node_name(g->o, r->metadata);
	const Basalt__Resource__Metadata *m = r->meta;
	char ver[24];

	if (osc_node_error(g->o, r->metadata)) {
		g->rc = 1;
		return;
	}
	if (!m)
		return;
	snprintf(ver, sizeof(ver), "%llu", (unsigned long long)m->version);
	if (g->fmt == OUT_TABLE) {
		char cells[RES_COLUMNS_MAX][96];

		spec_cells(g, r->spec_yaml, cells);
		if (g->watch) {
			printf("%-10s %-16s %-10s %-18s %-24s %-8s", event, node, m->namespace_, m->type, m->id, ver);
			for (size_t i = 0; i < g->ncols; i++)
				printf(" %-12s", cells[i]);
			printf("\n");
			fflush(stdout);
		} else {
			const char *row[5 + RES_COLUMNS_MAX] = { node, m->namespace_, m->type, m->id, ver };

			for (size_t i = 0; i < g->ncols; i++)
				row[5 + i] = cells[i];
			table_add_row(&g->t, row);
		}
	} else if (g->fmt == OUT_YAML) {
		char *md = pbyaml_emit(&m->base, false);

		printf("---\nnode: %s\n", node);
		if (event)
			printf("event: %s\n", event);
		printf("metadata:\n");
		osc_print_indented(md ? md : "", "  ");
		printf("spec:\n");
		osc_print_indented(r->spec_yaml, "  ");
		free(md);
		fflush(stdout);
	} else {
		char *mdj = pbyaml_emit(&m->base, true), *md = mdj ? yaml_to_json(mdj) : NULL;
		char *spec = yaml_to_json(r->spec_yaml);

		free(mdj);
		printf("{\"node\":\"%s\",%s%s%s\"metadata\":%s,\"spec\":%s}\n", node, event ? "\"event\":\"" : "",
		       event ? event : "", event ? "\"," : "", md ? md : "null", spec && *spec ? spec : "null");
		free(md);
		free(spec);
		fflush(stdout);
	}
}

static int on_list_msg(void *arg, const uint8_t *p, size_t len)
{
	struct getctx *g = arg;
	Basalt__Resource__Resource *r = (void *)protobuf_c_message_unpack(&basalt__resource__resource__descriptor, NULL, len, p);

	if (!r)
		return 1;
	show_resource(g, r, NULL, NULL);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return 0;
}

static int on_watch_msg(void *arg, const uint8_t *p, size_t len)
{
	struct getctx *g = arg;
	Basalt__Resource__WatchEvent *e = (void *)protobuf_c_message_unpack(&basalt__resource__watch_event__descriptor, NULL, len, p);

	if (!e)
		return 1;
	if (osc_node_error(g->o, e->metadata))
		g->rc = 1;
	else if (e->resource)
		show_resource(g, e->resource, event_name(e->type), osc_node_name(g->o, e->metadata));
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return 0;
}

static int list_definitions(void)
{
	struct table t;

	table_init(&t, 4);
	table_add(&t, "NAMESPACE", "TYPE", "ALIASES", "NEEDS");
	for (size_t i = 0; i < RES_NTYPES; i++) {
		const struct res_type *r = &res_types[i];
		char al[128] = "";

		for (size_t j = 0; j < RES_ALIASES_MAX && r->aliases[j]; j++) {
			size_t n = strlen(al);

			snprintf(al + n, sizeof(al) - n, "%s%s", j ? "," : "", r->aliases[j]);
		}
		table_add(&t, r->ns, r->type, al, r->sensitive ? "os:admin" : "os:reader");
	}
	table_print(&t);
	table_fini(&t);
	return 0;
}

int cmd_get(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "-o", "--output", "--namespace", "-l", "--selector", NULL };
	const char *type = osc_positional(argc, argv, 0, tv), *id = osc_positional(argc, argv, 1, tv);
	const char *out = osc_opt(argc, argv, "-o", "--output"), *ns = osc_opt(argc, argv, "--namespace", NULL);
	const char *sel = osc_opt(argc, argv, "-l", "--selector");
	struct getctx g = { .o = o, .watch = osc_flag(argc, argv, "-w", "--watch") };
	int r;

	if (!type) {
		fprintf(stderr, "usage: osctl get TYPE [ID] [-o table|yaml|json] [-w] [-l SELECTOR] "
				"[--namespace NS]\n  osctl get rd lists the types\n");
		return 2;
	}
	if (strcmp(type, "rd") == 0 || strcmp(type, "resourcedefinitions") == 0)
		return list_definitions();
	if (!out || strcmp(out, "table") == 0)
		g.fmt = OUT_TABLE;
	else if (strcmp(out, "yaml") == 0)
		g.fmt = OUT_YAML;
	else if (strcmp(out, "json") == 0)
		g.fmt = OUT_JSON;
	else {
		fprintf(stderr, "osctl: -o %s: expected table, yaml or json\n", out);
		return 2;
	}
	/* The columns come from this osctl's registry: a type it does not know gets none. */
	if ((g.type = res_type_find(type)))
		while (g.ncols < RES_COLUMNS_MAX && g.type->columns[g.ncols].title)
			g.ncols++;
	{
		const char *head[5 + RES_COLUMNS_MAX] = { "NODE", "NAMESPACE", "TYPE", "ID", "VERSION" };

		for (size_t i = 0; i < g.ncols; i++)
			head[5 + i] = g.type->columns[i].title;
		table_init(&g.t, 5 + g.ncols);
		table_add_row(&g.t, head);
	}
	if (g.watch) {
		Basalt__Resource__WatchRequest req = BASALT__RESOURCE__WATCH_REQUEST__INIT;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.id = (char *)(id ? id : "");
		req.label_selector = (char *)(sel ? sel : "");
		if (g.fmt == OUT_TABLE) {
			printf("%-10s %-16s %-10s %-18s %-24s %-8s", "EVENT", "NODE", "NAMESPACE", "TYPE", "ID",
			       "VERSION");
			for (size_t i = 0; i < g.ncols; i++)
				printf(" %-12s", g.type->columns[i].title);
			printf("\n");
		}
		r = osc_stream(o, API_WATCH, &req.base, on_watch_msg, &g);
	} else if (id) {
		Basalt__Resource__GetRequest req = BASALT__RESOURCE__GET_REQUEST__INIT;
		Basalt__Resource__GetResponse *resp;
		struct buf b;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.id = (char *)id;
		buf_init(&b);
		r = osc_unary(o, API_GET, &req.base, &b);
		resp = r == 0 ? osc_unpack(&basalt__resource__get_response__descriptor, &b) : NULL;
		buf_fini(&b);
		if (r == 0 && !resp)
			r = -1;
		for (size_t i = 0; resp && i < resp->n_messages; i++)
			show_resource(&g, resp->messages[i], NULL, NULL);
		if (resp)
			protobuf_c_message_free_unpacked(&resp->base, NULL);
	} else {
		Basalt__Resource__ListRequest req = BASALT__RESOURCE__LIST_REQUEST__INIT;

		req.namespace_ = (char *)(ns ? ns : "");
		req.type = (char *)type;
		req.label_selector = (char *)(sel ? sel : "");
		r = osc_stream(o, API_LIST, &req.base, on_list_msg, &g);
	}
	if (g.fmt == OUT_TABLE && !g.watch && r == 0)
		table_print(&g.t);
	table_fini(&g.t);
	return r < 0 || g.rc;
}


/* SPDX-License-Identifier: MIT */
/* basalt.resource.ResourceService: Get, List, Watch. */
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
#include "lib/restypes.h"
#include "lib/linediff.h"
#include "lib/log.h"
#include "lib/pbyaml.h"
#include "machined/api/api.h"
#include "machined/api/rpc.h"
#include "lib/grpc.h"
#include "machined/ctrl/initclient.h"
#include "machined/api/kmsg.h"
#include "machined/core/resfmt.h"

/* --- resources --- */

#define API_NAME_MAX 64  /* a namespace or type name */

/*
 * Resolves a type name or alias from the registry; finishes the call and returns NULL if
 * it may not be read. Only registered types in their own namespace are reachable (the
 * store holds no other), and a name is length-capped before it is looked up.
 */
static const struct res_type *resolve(struct apicall *c, enum pki_role role, const char *ns,
				      const char *type)
{
	const struct res_type *t;
	char msg[1024];
	size_t n;

	if (strlen(type) > API_NAME_MAX || (ns && strlen(ns) > API_NAME_MAX)) {
		snprintf(msg, sizeof(msg), "a resource type or namespace of %zu characters: at most %d",
			 strlen(type) > API_NAME_MAX ? strlen(type) : strlen(ns), API_NAME_MAX);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
		return NULL;
	}
	if (!(t = res_type_find(type))) {
		n = (size_t)snprintf(msg, sizeof(msg), "unknown resource type %s; the types are", type);
		for (size_t i = 0; i < RES_NTYPES && n < sizeof(msg); i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "", res_types[i].type);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
		return NULL;
	}
	if (ns && *ns && strcmp(ns, t->ns) != 0) {
		snprintf(msg, sizeof(msg), "%s is in namespace %s, not %s", t->type, t->ns, ns);
		apicall_finish(c, GRPC_NOT_FOUND, msg);
		return NULL;
	}
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

void rpc_get(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__GetRequest *req = DECODE(c, Basalt__Resource__GetRequest, basalt__resource__get_request__descriptor);
	Basalt__Resource__GetResponse resp = BASALT__RESOURCE__GET_RESPONSE__INIT;
	Basalt__Resource__Resource *mp;
	const struct res_type *t;
	const struct res *r;
	struct resmsg x;
	char msg[400];

	if (!req)
		return;
	if (!(t = resolve(c, role, req->namespace_, req->type)))
		goto out;
	r = store_get(a->st, t, req->id);
	if (!r) {
		snprintf(msg, sizeof(msg), "%.60s/%.100s/%.200s not found", t->ns, t->type, req->id);
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

void rpc_list(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__ListRequest *req = DECODE(c, Basalt__Resource__ListRequest, basalt__resource__list_request__descriptor);
	struct selector sel;
	const struct res_type *t;
	char err[256];

	if (!req)
		return;
	if (!(t = resolve(c, role, req->namespace_, req->type)))
		goto out;
	if (selector_parse(req->label_selector, &sel, err, sizeof(err)) < 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
		goto out;
	}
	if (store_list(a->st, t, &sel, list_one, c) < 0)
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

void rpc_watch(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Resource__WatchRequest *req = DECODE(c, Basalt__Resource__WatchRequest, basalt__resource__watch_request__descriptor);
	struct watch_opts wo = { 0 };
	struct wctx *x;
	char err[256];

	if (!req)
		return;
	if (!(wo.type = resolve(c, role, req->namespace_, req->type)))
		goto out;
	/* The watch keeps its id: one longer than any resource's can match nothing anyway. */
	if (strlen(req->id) > RES_NAME_MAX) {
		snprintf(err, sizeof(err), "an id of %zu characters: at most %d", strlen(req->id), RES_NAME_MAX);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
		goto out;
	}
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


/* SPDX-License-Identifier: MIT */
/* osctl's calls: one connection to the first endpoint, `nodes` metadata, clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "lib/apidef.h"
#include "lib/atomicfile.h"
#include "lib/pki.h"
#include "osctl/osctl.h"

#define CALL_TIMEOUT_MS 60000
#define SESSION_MAX 16384

/*
 * TLS 1.3 session tickets kept across commands, so a command after the first resumes
 * instead of a full handshake: one file per context identity (CA, certificate) and
 * endpoint, in sessions/ beside the client config, mode 0600 (a ticket's session holds
 * its resumption secret), replaced atomically.
 */
static void session_load(struct osc *o, const char *ca, const char *crt, const char *host, unsigned port)
{
	char dir[4096], *id = NULL, fp[65], *data = NULL;
	size_t n, len = 0;

	snprintf(dir, sizeof(dir), "%s", o->config_path);
	snprintf(o->session_key, sizeof(o->session_key), "%s:%u", host, port);
	n = strlen(ca) + strlen(crt) + strlen(o->session_key) + 3;
	if (!(id = malloc(n)))
		return;
	snprintf(id, n, "%s\n%s\n%s", o->session_key, ca, crt);
	pki_fingerprint_der((const unsigned char *)id, strlen(id), fp);
	free(id);
	snprintf(o->session_path, sizeof(o->session_path), "%s/sessions/%.32s", dirname(dir), fp);
	if (read_file(o->session_path, SESSION_MAX, &data, &len) < 0)
		return;
	/* A ticket that does not load (another mbedTLS, a damaged file) is just not offered. */
	if (tls_config_session_put(o->tls, o->session_key, (unsigned char *)data, len) == 0) {
		o->session = (unsigned char *)data;
		o->session_len = len;
	} else {
		pki_free_secret_n(data, len);
	}
}

static void session_save(struct osc *o)
{
	unsigned char *blob = NULL;
	size_t len = 0;
	char dir[4200], err[256];
	struct tls_stats st;
	const char *dbg = getenv("OSCTL_DEBUG");

	if (!o->tls)
		return;
	if (dbg && strstr(dbg, "tls")) {
		tls_config_stats(o->tls, &st);
		fprintf(stderr, "osctl: tls: %lu full handshake(s), %lu resumed, %lu ticket(s) received%s\n",
			st.full, st.resumed, st.tickets, o->session ? ", one offered from the session file" : "");
	}
	if (!o->session_path[0] || tls_config_session_get(o->tls, o->session_key, &blob, &len) < 0)
		return;
	if (!o->session || len != o->session_len || memcmp(blob, o->session, len) != 0) {
		snprintf(dir, sizeof(dir), "%s", o->session_path);
		*strrchr(dir, '/') = '\0';
		if ((mkdir(dir, 0700) == 0 || errno == EEXIST) &&
		    atomic_write(o->session_path, blob, len, 0600, err, sizeof(err)) < 0)
			fprintf(stderr, "osctl: warning: TLS session not kept in %s: %s\n", o->session_path, err);
	}
	pki_free_secret_n(blob, len);
}

/* ms, cut to what is left before o's deadline (at least 1). */
static uint64_t bounded(const struct osc *o, uint64_t ms)
{
	uint64_t now = mono_ms();

	if (!o->deadline_ms)
		return ms;
	if (o->deadline_ms <= now)
		return 1;
	return o->deadline_ms - now < ms ? o->deadline_ms - now : ms;
}

int osc_connect(struct osc *o)
{
	struct tls_opts to = { .server = false };
	struct grpc_client_opts co = { 0 };
	char *ca = NULL, *crt = NULL, *key = NULL, err[512], host[64];
	const char *ep = o->nendpoints ? o->endpoints[0] : NULL;
	Basalt__Osctl__Context *c = NULL;
	int r = -1;

	if (o->cl)
		return 0;
	if (!o->insecure) {
		if (!o->cfg && osc_cfg_load(o, true) < 0)
			return -1;
		if (!(c = osc_cfg_current(o, NULL)))
			return -1;
		ca = pki_b64_decode(c->ca);
		crt = pki_b64_decode(c->crt);
		key = pki_b64_decode(c->key);
		if (!ca || !crt || !key) {
			fprintf(stderr, "osctl: the context's %s is missing or not base64\n",
				!ca ? "ca" : !crt ? "crt" : "key");
			goto out;
		}
		to.ca_pem = ca;
		to.cert_pem = crt;
		to.key_pem = key;
		if (!ep && c->n_endpoints)
			ep = c->endpoints[0];
		if (!o->nodes_set)
			for (size_t i = 0; i < c->n_nodes && i < OSC_MAX_LIST; i++)
				o->nodes[o->nnodes++] = c->nodes[i];
	} else {
		if (!ep && o->nnodes)
			ep = o->nodes[0];  /* maintenance: the node itself */
		o->nnodes = 0;
		to.pin_sha256 = o->fingerprint;
		if (!o->fingerprint)
			fprintf(stderr, "osctl: warning: --insecure without --cert-fingerprint: the node's "
					"certificate is not verified\n");
	}
	if (!ep) {
		fprintf(stderr, "osctl: no endpoint: pass -e IP or set one with osctl config endpoint\n");
		goto out;
	}
	if (api_parse_hostport(ep, host, sizeof(host), &co.port, API_PORT) < 0 || co.port == 0) {
		fprintf(stderr, "osctl: endpoint %s: expected IP or IP:port\n", ep);
		goto out;
	}
	snprintf(o->endpoint, sizeof(o->endpoint), "%s", ep);
	to.max_tls12 = o->tls12;
	if (tls_config_new(&to, &o->tls, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: credentials: %s\n", err);
		goto out;
	}
	if (!o->insecure)
		session_load(o, ca, crt, host, co.port);
	if (!o->loop && loop_new(&o->loop) < 0)
		goto out;
	co.loop = o->loop;
	co.host = host;
	co.tls = o->tls;
	co.connect_timeout_ms = bounded(o, 10000);
	if (grpc_client_new(&co, &o->cl, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: %s\n", err);
		goto out;
	}
	r = 0;
out:
	free(ca);
	free(crt);
	pki_free_secret(key);
	return r;
}

void osc_close(struct osc *o)
{
	grpc_client_free(o->cl);
	o->cl = NULL;
	session_save(o);
	if (o->session)
		pki_free_secret_n(o->session, o->session_len);
	o->session = NULL;
	o->session_path[0] = '\0';
	tls_config_free(o->tls);
	o->tls = NULL;
	loop_free(o->loop);
	o->loop = NULL;
}

struct callstate {
	bool done;
	int code;
	char msg[1024];
	struct buf *reply;
	grpc_msg_fn *fn;
	void *arg;
};

static int on_msg(void *arg, const uint8_t *m, size_t len)
{
	struct callstate *s = arg;

	if (s->fn)
		return s->fn(s->arg, m, len);
	return buf_append(s->reply, m, len) < 0;
}

static void on_done(void *arg, int code, const char *msg)
{
	struct callstate *s = arg;

	s->done = true;
	s->code = code;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

/* What a person should read for a failed call. */
static void explain(struct osc *o, struct callstate *s)
{
	const char *hint = "";
	bool conn = s->code == GRPC_UNAVAILABLE && (strstr(s->msg, "TLS") || strstr(s->msg, "connect"));

	if (strstr(s->msg, "server certificate") || strstr(s->msg, "fingerprint"))
		hint = " (the node's certificate is not from this context's CA, or not for this address; "
		       "a node in maintenance mode needs --insecure)";
	else if (strstr(s->msg, "TLS handshake") && strstr(s->msg, "protocol_version"))
		hint = " (the node and this client share no TLS version: see --tls-max)";
	else if (strstr(s->msg, "TLS handshake") &&
		 (strstr(s->msg, "fatal") || strstr(s->msg, "Sending information") || strstr(s->msg, "reset") ||
		  strstr(s->msg, "closed") || strstr(s->msg, "ended the session after the handshake")))
		hint = " (the node refused this client's certificate: another CA, or expired)";
	else if (strstr(s->msg, "refused"))
		hint = " (is the node up, and is this its address?)";
	if (conn)
		fprintf(stderr, "osctl: %s%s\n", s->msg, hint);
	else
		fprintf(stderr, "osctl: %s: %s: %s%s\n", o->endpoint, grpc_code_name(s->code), s->msg, hint);
}

/* OSCTL_TRACE=1: each call's start and end on stderr, wall-clock stamped (for timing a node). */
static void trace(const char *what, const char *method, size_t bytes)
{
	struct timespec ts;
	const char *t = getenv("OSCTL_TRACE");

	if (!t || !*t || strcmp(t, "0") == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "osctl: trace: %lld.%06ld %s %s (%zu bytes)\n", (long long)ts.tv_sec, ts.tv_nsec / 1000, what,
		method, bytes);
}

static int call(struct osc *o, const char *method, const ProtobufCMessage *req, struct callstate *s,
		uint64_t timeout)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *p = malloc(len ? len : 1);
	char nodes[1024] = "";
	struct grpc_md md[1];
	size_t nmd = 0;
	int r;

	o->last_code = GRPC_UNAVAILABLE;  /* until the call has an answer */
	if (!p || osc_connect(o) < 0) {
		free(p);
		return -1;
	}
	protobuf_c_message_pack(req, p);
	for (size_t i = 0; i < o->nnodes; i++) {
		size_t n = strlen(nodes);

		snprintf(nodes + n, sizeof(nodes) - n, "%s%s", i ? "," : "", o->nodes[i]);
	}
	if (nodes[0])
		md[nmd++] = (struct grpc_md){ API_MD_NODES, nodes };
	trace("call", method, len);
	r = grpc_client_call(o->cl, method, md, nmd, p, len, timeout, on_msg, on_done, s, NULL);
	free(p);
	if (r < 0) {
		fprintf(stderr, "osctl: %s: cannot start the call: %s\n", o->endpoint, strerror(-r));
		return -1;
	}
	while (!s->done)
		loop_run_once(o->loop, 1000);
	trace(grpc_code_name(s->code), method, s->reply ? s->reply->len : 0);
	o->last_code = s->code;
	if (s->code != GRPC_OK) {
		explain(o, s);
		return -1;
	}
	return 0;
}

/* The method's path from lib/apidef.c's table; its request must be the message the table names. */
static const char *path_of(enum api_method_id m, const ProtobufCMessage *req)
{
	if ((unsigned)m >= API_NMETHODS || req->descriptor != api_methods[m].request) {
		fprintf(stderr, "osctl: internal error: a %s sent to method %d\n", req->descriptor->name, (int)m);
		return NULL;
	}
	return api_methods[m].path;
}

int osc_unary(struct osc *o, enum api_method_id m, const ProtobufCMessage *req, struct buf *reply)
{
	struct callstate s = { .reply = reply };
	const char *path = path_of(m, req);

	return path ? call(o, path, req, &s, bounded(o, CALL_TIMEOUT_MS)) : -1;
}

int osc_stream(struct osc *o, enum api_method_id m, const ProtobufCMessage *req, grpc_msg_fn *fn, void *arg)
{
	struct callstate s = { .fn = fn, .arg = arg };
	const char *path = path_of(m, req);

	return path ? call(o, path, req, &s, 0) : -1;
}

const char *osc_node_name(struct osc *o, const Basalt__Resource__NodeMetadata *md)
{
	if (md && md->node && *md->node)
		return md->node;
	return o->endpoint;
}

bool osc_node_error(struct osc *o, const Basalt__Resource__NodeMetadata *md)
{
	if (!md || !md->error || !*md->error)
		return false;
	fprintf(stderr, "osctl: node %s: %s: %s\n", osc_node_name(o, md), grpc_code_name(md->code),
		md->error);
	o->failures++;
	return true;
}

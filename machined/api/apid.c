/* SPDX-License-Identifier: MIT */
/*
 * apid: the network-facing half of the machine API, a process of its own. It listens,
 * drops to uid/gid 65534 without capabilities under a seccomp allowlist, and then does
 * TLS, HTTP/2, gRPC framing, the role check and forwarding to other nodes. Everything
 * that touches the machine is asked of machined's core over the socketpair it was
 * started with (fd --ipc-fd); the core gives it its TLS material (basalt.apid.Setup).
 * Anything unexpected from the core ends apid; the core starts a new one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "api/apid.pb-c.h"
#include "lib/apidef.h"
#include "lib/grpc_client.h"
#include "lib/grpc_server.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/rng.h"
#include "machined/api/api.h"
#include "machined/api/apiipc.h"
#include "machined/api/sandbox.h"

#define MAX_NODES 32
#define FORWARD_TIMEOUT_MS 30000
#define DROP_DELAY_MS 1000
#define POOL_IDLE_MS 60000           /* a connection to another node unused this long is closed */
#define POOL_SWEEP_MS 10000
#define TRUSTD_BURST 10.0            /* signing requests per source at once, */
#define TRUSTD_EVERY_MS 6000.0       /* then one every 6 s */
#define TRUSTD_SOURCES 256
#define CONN_RATE 20.0               /* new connections to other nodes per second, sustained */
#define CONN_BURST 40.0              /* and at once */

/* A connection to another node, kept for the next forwarded request. */
struct pooled {
	char key[80];                /* host:port */
	struct grpc_client *cl;
	unsigned inflight;           /* forwarded calls on it now */
	uint64_t last_used;
	bool stale;                  /* made with an earlier forwarding certificate: not reused */
	struct pooled *next;
};

/* Streaming calls open per client certificate (by the SHA-256 of its DER). */
struct client_streams {
	unsigned char fp[32];
	unsigned n;
	struct client_streams *next;
};

/* A call handed to the core, by the id both sides know it by. */
struct pcall {
	struct apid *a;
	uint32_t id;
	struct grpc_call *call;
	size_t ack;                  /* reply bytes taken, not yet acknowledged to the core */
	bool held;                   /* over the high water mark: acknowledge on writable */
	struct client_streams *cs;   /* a stream counted against its client; else NULL */
	struct pcall *prev, *next;
};

struct apid {
	struct loop *loop;
	struct grpc_server *srv;
	struct ipc *ipc;
	char listen[80];
	bool maintenance;
	bool set_up;                 /* a Setup arrived: connections are served */
	bool local_forwarding;       /* IPC_POLICY_LOCAL_FORWARDING */
	double conn_tokens;          /* new connections to other nodes that may be made now */
	uint64_t conn_tokens_ms;
	struct tls_config *client_tls;
	struct pooled *pool;
	struct loop_timer pool_sweep;
	struct loop_timer drop;
	struct pcall *calls;
	uint32_t next_id;
	struct client_streams *streams;
	struct grpc_server *trustd;  /* port 50001: TLS set only on a control-plane node */
	char trustd_listen[80];
	struct src_rate *rates;
};

/* --- streams per client --- */

/*
 * Counts a new streaming call of the client presenting crt; NULL (with the call finished)
 * when that client already has API_STREAMS_PER_CLIENT open.
 */
static struct client_streams *streams_take(struct apid *a, struct grpc_call *c, const mbedtls_x509_crt *crt,
					   bool *refused)
{
	unsigned char fp[32];
	struct client_streams *cs;
	char msg[160];

	*refused = false;
	if (mbedtls_sha256(crt->raw.p, crt->raw.len, fp, 0) != 0)
		return NULL;
	for (cs = a->streams; cs && memcmp(cs->fp, fp, sizeof(fp)) != 0; cs = cs->next)
		;
	if (cs && cs->n >= API_STREAMS_PER_CLIENT) {
		snprintf(msg, sizeof(msg), "this client certificate has %u streams open on this node, the most "
			 "it may: end one first", cs->n);
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, msg);
		*refused = true;
		return NULL;
	}
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return NULL;
		memcpy(cs->fp, fp, sizeof(fp));
		cs->next = a->streams;
		a->streams = cs;
	}
	cs->n++;
	return cs;
}

static void streams_give(struct apid *a, struct client_streams *cs)
{
	struct client_streams **pp;

	if (!cs || --cs->n)
		return;
	for (pp = &a->streams; *pp != cs; pp = &(*pp)->next)
		;
	*pp = cs->next;
	free(cs);
}

/* --- forwarding to other nodes --- */

struct fwd;

struct fwd_node {
	struct fwd *f;
	char node[API_NODE_LEN];
	struct pooled *pe;           /* the connection the call runs on */
	struct grpc_ccall *cc;
	bool done;
	bool bad_reply;              /* its reply could not be merged */
};

struct fwd {
	struct apid *a;
	struct grpc_call *call;
	struct client_streams *cs;   /* a stream counted against its client; else NULL */
	bool stream;
	bool cancelled;
	bool paused;
	size_t nnodes, pending;
	struct buf merged;           /* unary: the replies, as one XResponse */
	struct fwd_node nodes[MAX_NODES];
};

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static int get_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*off >= len)
			return -1;
		uint8_t b = p[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Field 1 (NodeMetadata) of a per-node message: node, and error and code when it failed. */
static size_t node_md(uint8_t *out, const char *node, int code, const char *error)
{
	uint8_t inner[600];
	size_t n = 0, nl = strlen(node), el = error ? strlen(error) : 0, o = 0;

	if (el > 500)
		el = 500;
	inner[n++] = 0x0a;
	n += put_varint(inner + n, nl);
	memcpy(inner + n, node, nl);
	n += nl;
	if (error) {
		inner[n++] = 0x12;
		n += put_varint(inner + n, el);
		memcpy(inner + n, error, el);
		n += el;
		inner[n++] = 0x18;
		n += put_varint(inner + n, (uint64_t)code);
	}
	out[o++] = 0x0a;
	o += put_varint(out + o, n);
	memcpy(out + o, inner, n);
	return o + n;
}

/* Appends msg with this node's metadata merged in (protobuf merges a repeated message field). */
static int append_tagged(struct buf *b, const uint8_t *msg, size_t len, const uint8_t *md, size_t mdlen,
			 bool as_entry)
{
	uint8_t hdr[12];
	size_t h = 0;

	if (as_entry) {
		hdr[h++] = 0x0a;
		h += put_varint(hdr + h, len + mdlen);
	}
	return buf_append(b, hdr, h) < 0 || buf_append(b, msg, len) < 0 || buf_append(b, md, mdlen) < 0
		       ? -ENOMEM : 0;
}

/*
 * Reads the protobuf field at *off of p: its tag, and for a length-delimited one where its
 * bytes start (*val) and how many (*vlen). Moves *off past it; -1 if it does not fit.
 */
static int wire_field(const uint8_t *p, size_t len, size_t *off, uint64_t *tag, size_t *val, size_t *vlen)
{
	uint64_t l = 0;

	if (get_varint(p, len, off, tag) < 0)
		return -1;
	switch (*tag & 7) {
	case 0:
		return get_varint(p, len, off, &l);
	case 1:
		l = 8;
		break;
	case 5:
		l = 4;
		break;
	case 2:
		if (get_varint(p, len, off, &l) < 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (l > len - *off)
		return -1;
	*val = *off;
	*vlen = (size_t)l;
	*off += (size_t)l;
	return 0;
}

/* Whether p is a well-formed sequence of protobuf fields (of any message type). */
static bool wire_ok(const uint8_t *p, size_t len)
{
	size_t off = 0, val, vlen;
	uint64_t tag;

	while (off < len)
		if (wire_field(p, len, &off, &tag, &val, &vlen) < 0)
			return false;
	return true;
}

/*
 * Appends an XResponse to out with each of its messages carrying the node. Field 1 (the
 * messages) must be length-delimited and each entry well-formed; on -EBADMSG the caller
 * drops what was appended, so one node's bad reply never spoils the others' merged reply.
 */
static int merge_unary(struct buf *out, const uint8_t *p, size_t len, const uint8_t *md, size_t mdlen)
{
	size_t off = 0;

	while (off < len) {
		size_t start = off, val, vlen;
		uint64_t tag;

		if (wire_field(p, len, &off, &tag, &val, &vlen) < 0 || (tag >> 3 == 1 && tag != 0x0a))
			return -EBADMSG;
		if (tag == 0x0a) {
			if (!wire_ok(p + val, vlen))
				return -EBADMSG;
			if (append_tagged(out, p + val, vlen, md, mdlen, true) < 0)
				return -ENOMEM;
		} else if (buf_append(out, p + start, off - start) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static void fwd_free(struct fwd *f)
{
	streams_give(f->a, f->cs);
	buf_fini(&f->merged);
	free(f);
}

static void fwd_node_done(void *arg, int code, const char *message);

static void fwd_end(struct fwd *f)
{
	if (f->cancelled) {
		grpc_call_finish(f->call, GRPC_CANCELLED, NULL);
	} else if (f->stream) {
		grpc_call_finish(f->call, GRPC_OK, NULL);
	} else {
		if (grpc_call_send(f->call, buf_head(&f->merged), f->merged.len) < 0)
			grpc_call_finish(f->call, GRPC_INTERNAL, "could not send the merged reply");
		else
			grpc_call_finish(f->call, GRPC_OK, NULL);
	}
	fwd_free(f);
}

static int fwd_node_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct fwd_node *n = arg;
	struct fwd *f = n->f;
	uint8_t md[128];
	size_t mdlen = node_md(md, n->node, 0, NULL);

	if (f->cancelled)
		return 1;
	if (!f->stream) {
		size_t mark = f->merged.len;
		int r = merge_unary(&f->merged, msg, len, md, mdlen);

		if (r < 0)
			f->merged.len = mark;  /* nothing of a reply that did not merge */
		if (r == -EBADMSG)
			n->bad_reply = true;   /* reported by fwd_node_done as this node's error */
		return r < 0;
	}
	{
		struct buf b;
		int r;

		buf_init(&b);
		r = append_tagged(&b, msg, len, md, mdlen, false);
		if (r == 0)
			r = grpc_call_send(f->call, buf_head(&b), b.len);
		buf_fini(&b);
		if (r < 0)
			return 1;
		if (r == 1 && !f->paused) {
			/* The caller reads slower than the nodes send: hold them back. */
			f->paused = true;
			for (size_t i = 0; i < f->nnodes; i++)
				if (f->nodes[i].cc && !f->nodes[i].done)
					grpc_ccall_pause(f->nodes[i].cc);
		}
	}
	return 0;
}

static void fwd_writable(void *arg, struct grpc_call *c)
{
	struct fwd *f = arg;

	(void)c;
	if (!f->paused)
		return;
	f->paused = false;
	for (size_t i = 0; i < f->nnodes; i++)
		if (f->nodes[i].cc && !f->nodes[i].done)
			grpc_ccall_resume(f->nodes[i].cc);
}

static void fwd_node_done(void *arg, int code, const char *message)
{
	struct fwd_node *n = arg;
	struct fwd *f = n->f;

	n->done = true;
	n->cc = NULL;
	if (n->pe) {
		n->pe->inflight--;
		n->pe->last_used = mono_ms();
	}
	if (n->bad_reply) {
		code = GRPC_INTERNAL;
		message = "the node's reply does not decode";
	}
	if (code != GRPC_OK && !f->cancelled) {
		uint8_t md[700];
		size_t mdlen = node_md(md, n->node, code, message && *message ? message : grpc_code_name(code));

		if (f->stream) {
			grpc_call_send(f->call, md, mdlen);
		} else {
			/* XResponse { messages: [X { metadata: {node, error, code} }] } */
			append_tagged(&f->merged, md, mdlen, NULL, 0, true);
		}
	}
	if (--f->pending == 0)
		fwd_end(f);
}

static void fwd_cancel(void *arg, struct grpc_call *c)
{
	struct fwd *f = arg;
	struct grpc_ccall *calls[MAX_NODES];
	size_t n = 0;

	(void)c;
	f->cancelled = true;
	/* Each node's call ends from the loop; the last one ends ours and frees f. */
	for (size_t i = 0; i < f->nnodes; i++)
		if (f->nodes[i].cc && !f->nodes[i].done)
			calls[n++] = f->nodes[i].cc;
	for (size_t i = 0; i < n; i++)
		grpc_ccall_cancel(calls[i]);
}

/* --- connections to other nodes, kept and reused --- */

static void pool_sweep(void *arg)
{
	struct apid *a = arg;
	uint64_t now = mono_ms();

	for (struct pooled **pp = &a->pool; *pp;) {
		struct pooled *e = *pp;
		bool broken = grpc_client_error(e->cl) != NULL;

		if (e->inflight == 0 && (broken || e->stale || now - e->last_used > POOL_IDLE_MS)) {
			*pp = e->next;
			grpc_client_close(e->cl);
			free(e);
			continue;
		}
		pp = &e->next;
	}
	if (a->pool)
		loop_timer_arm(a->loop, &a->pool_sweep, POOL_SWEEP_MS);
}

/* New forwarding credentials: no connection made with the old ones is used again. */
static void pool_retire(struct apid *a)
{
	for (struct pooled *e = a->pool; e; e = e->next)
		e->stale = true;
	pool_sweep(a);
}

/* A usable connection to host:port (made now if need be), or NULL with err. */
static struct pooled *pool_get(struct apid *a, const char *host, uint16_t port, char *err, size_t errlen)
{
	struct grpc_client_opts o = { .loop = a->loop, .host = host, .port = port, .numeric_only = true,
				      .tls = a->client_tls, .connect_timeout_ms = 5000 };
	char key[80];
	struct pooled *e;

	snprintf(key, sizeof(key), "%s:%u", host, port);
	for (e = a->pool; e; e = e->next)
		if (!e->stale && strcmp(e->key, key) == 0 && !grpc_client_error(e->cl))
			return e;
	/* A token bucket: a request naming many nodes cannot make apid a connection flood. */
	{
		uint64_t now = mono_ms();

		a->conn_tokens += (double)(now - a->conn_tokens_ms) * CONN_RATE / 1000.0;
		if (a->conn_tokens > CONN_BURST)
			a->conn_tokens = CONN_BURST;
		a->conn_tokens_ms = now;
		if (a->conn_tokens < 1.0) {
			snprintf(err, errlen, "this node opens at most %.0f new connections to other nodes per "
				 "second: try again shortly", CONN_RATE);
			return NULL;
		}
		a->conn_tokens -= 1.0;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (grpc_client_new(&o, &e->cl, err, errlen) < 0) {
		free(e);
		return NULL;
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->last_used = mono_ms();
	e->next = a->pool;
	a->pool = e;
	if (!loop_timer_armed(&a->pool_sweep))
		loop_timer_arm(a->loop, &a->pool_sweep, POOL_SWEEP_MS);
	return e;
}

/* Loopback, link-local or unspecified: this machine itself, or a neighbour without an address. */
static bool local_address(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t v = ntohl(a4.s_addr);

		return (v >> 24) == 127 || (v >> 16) == 0xa9fe || v == 0;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		char v4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof(v4));
		return local_address(v4);
	}
	return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6);
}

static void forward(struct apid *a, struct grpc_call *c, const struct api_method *m, enum pki_role role,
		    const char *nodes, struct client_streams *cs)
{
	struct fwd *f = calloc(1, sizeof(*f));
	char err[256], host[64];
	struct grpc_md md[2];
	uint64_t timeout = FORWARD_TIMEOUT_MS, dl = grpc_call_deadline(c);
	size_t len;
	const uint8_t *req = grpc_call_request(c, &len);

	if (!f) {
		streams_give(a, cs);
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	if (!a->client_tls) {
		free(f);
		streams_give(a, cs);
		grpc_call_finish(c, GRPC_FAILED_PRECONDITION, "this node forwards nothing: only control-plane "
				 "nodes hold the os:impersonator certificate");
		return;
	}
	f->a = a;
	f->cs = cs;
	f->call = c;
	f->stream = m->stream;
	buf_init(&f->merged);
	{
		char names[MAX_NODES][API_NODE_LEN], msg[200];
		uint16_t p;

		if (api_parse_nodes(nodes, names, MAX_NODES, &f->nnodes, msg, sizeof(msg)) < 0) {
			fwd_free(f);
			grpc_call_finish(c, GRPC_INVALID_ARGUMENT, msg);
			return;
		}
		for (size_t i = 0; i < f->nnodes; i++) {
			api_parse_hostport(names[i], host, sizeof(host), &p, API_PORT);
			if (!a->local_forwarding && local_address(host)) {
				snprintf(msg, sizeof(msg), "nodes: %.64s is a loopback or link-local address; "
					 "this node forwards there only with machine.features.localForwarding",
					 names[i]);
				fwd_free(f);
				grpc_call_finish(c, GRPC_INVALID_ARGUMENT, msg);
				return;
			}
			snprintf(f->nodes[i].node, sizeof(f->nodes[i].node), "%s", names[i]);
		}
	}
	if (dl) {
		uint64_t now = mono_ms();

		timeout = dl > now ? dl - now : 1;
	} else if (m->stream) {
		timeout = 0;
	}
	md[0] = (struct grpc_md){ API_MD_ROLE, pki_role_name(role) };
	md[1] = (struct grpc_md){ API_MD_FORWARDED, a->listen };
	grpc_call_on_cancel(c, fwd_cancel, f);
	grpc_call_on_writable(c, fwd_writable, f);
	f->pending = f->nnodes;
	for (size_t i = 0; i < f->nnodes; i++) {
		struct fwd_node *n = &f->nodes[i];
		uint16_t port;
		bool last;

		n->f = f;
		err[0] = '\0';
		api_parse_hostport(n->node, host, sizeof(host), &port, API_PORT);
		n->pe = pool_get(a, host, port, err, sizeof(err));
		if (n->pe && grpc_client_call(n->pe->cl, m->path, md, 2, req, len, timeout, fwd_node_msg,
					      fwd_node_done, n, &n->cc) == 0) {
			n->pe->inflight++;
			continue;
		}
		/* Reported like an unreachable node; done is not called for these. */
		n->pe = NULL;
		n->cc = NULL;
		last = f->pending == 1;
		fwd_node_done(n, GRPC_UNAVAILABLE, err[0] ? err : "could not start the call");
		if (last)
			return;  /* fwd_end ran and freed f */
	}
}

/* --- authorisation and dispatch --- */

static void to_core(struct apid *a, struct grpc_call *c, const struct api_method *m, uint32_t role,
		    struct client_streams *cs, const uint8_t *extra, size_t nextra);

static void handler(void *arg, struct grpc_call *c)
{
	struct apid *a = arg;
	const char *path = grpc_call_method(c);
	const struct api_method *m = api_method_find(path);
	const mbedtls_x509_crt *crt = grpc_call_peer_cert(c);
	const char *nodes = grpc_call_header(c, API_MD_NODES);
	struct client_streams *cs = NULL;
	enum pki_role role;
	bool impersonator;
	char msg[256];

	if (!m || m->trustd) {
		snprintf(msg, sizeof(msg), "%s %.150s%s", m ? "this port does not serve" : "unknown method", path,
			 m ? ": certificate signing is on port 50001" : "");
		grpc_call_finish(c, GRPC_UNIMPLEMENTED, msg);
		return;
	}
	if (a->maintenance) {
		if (!m->maintenance) {
			snprintf(msg, sizeof(msg), "%s is not served in maintenance mode: apply a machine "
				 "config first (only Version and ApplyConfiguration are)", m->name);
			grpc_call_finish(c, GRPC_FAILED_PRECONDITION, msg);
			return;
		}
		if (nodes && *nodes) {
			grpc_call_finish(c, GRPC_FAILED_PRECONDITION, "maintenance mode does not forward to other nodes");
			return;
		}
		/* No identity: what the call may do, the core decides (it knows whether a config is in force). */
		to_core(a, c, m, ROLE_NONE | IPC_REQ_MAINTENANCE, NULL, NULL, 0);
		return;
	}
	if (!crt) {
		/* Made in maintenance mode, before the config: it has no identity. */
		grpc_call_finish(c, GRPC_UNAUTHENTICATED, "no client certificate: reconnect with one");
		return;
	}
	role = pki_cert_role(crt);
	impersonator = pki_cert_has_org(crt, PKI_ROLE_IMPERSONATOR);
	if (impersonator) {
		const char *as = grpc_call_header(c, API_MD_ROLE);

		role = as ? pki_role_parse(as) : ROLE_NONE;
		if (nodes && *nodes) {
			grpc_call_finish(c, GRPC_INVALID_ARGUMENT, "a forwarded request cannot be forwarded again");
			return;
		}
	}
	if (role < m->role) {
		snprintf(msg, sizeof(msg), "%s needs %s; the client certificate grants %s", m->name,
			 pki_role_name(m->role), role == ROLE_NONE ? "no role" : pki_role_name(role));
		grpc_call_finish(c, GRPC_PERMISSION_DENIED, msg);
		return;
	}
	/* Forwarded calls count against the caller at the node it reached, not here. */
	if (m->stream && !impersonator) {
		bool refused;

		cs = streams_take(a, c, crt, &refused);
		if (refused)
			return;
	}
	if (nodes && *nodes) {
		forward(a, c, m, role, nodes, cs);
		return;
	}
	to_core(a, c, m, role, cs, NULL, 0);
}


/* --- certificate signing (port 50001): no identity, a token in the request --- */

/* Signing requests per source address: a token guesser gets TRUSTD_BURST tries, then one a TRUSTD_EVERY_MS. */
struct src_rate {
	char addr[64];
	double tokens;
	uint64_t last_ms;
	struct src_rate *next;
};

static bool trustd_allowed(struct apid *a, const char *addr)
{
	uint64_t now = mono_ms();
	struct src_rate *r, **pp, *oldest = NULL;
	size_t n = 0;

	for (r = a->rates; r && strcmp(r->addr, addr) != 0; r = r->next) {
		if (!oldest || r->last_ms < oldest->last_ms)
			oldest = r;
		n++;
	}
	if (!r) {
		/* A bounded table: the source heard from longest ago makes room. */
		if (n >= TRUSTD_SOURCES && oldest) {
			for (pp = &a->rates; *pp != oldest; pp = &(*pp)->next)
				;
			*pp = oldest->next;
			free(oldest);
		}
		r = calloc(1, sizeof(*r));
		if (!r)
			return false;
		snprintf(r->addr, sizeof(r->addr), "%s", addr);
		r->tokens = TRUSTD_BURST;
		r->last_ms = now;
		r->next = a->rates;
		a->rates = r;
	}
	r->tokens += (double)(now - r->last_ms) / TRUSTD_EVERY_MS;
	if (r->tokens > TRUSTD_BURST)
		r->tokens = TRUSTD_BURST;
	r->last_ms = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

static void trustd_handler(void *arg, struct grpc_call *c)
{
	struct apid *a = arg;
	const char *path = grpc_call_method(c);
	const struct api_method *m = api_method_find(path);
	const char *peer = grpc_call_peer_addr(c);
	char host[64], msg[200];
	uint8_t extra[80];
	size_t hl, n = 0;
	uint16_t port;

	if (!m || !m->trustd) {
		snprintf(msg, sizeof(msg), "port 50001 serves certificate signing only, not %.120s", path);
		grpc_call_finish(c, GRPC_UNIMPLEMENTED, msg);
		return;
	}
	if (!peer || api_parse_hostport(peer, host, sizeof(host), &port, 0) < 0)
		snprintf(host, sizeof(host), "%s", peer ? peer : "unknown");
	if (!trustd_allowed(a, host)) {
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "too many certificate requests from this address: "
				 "try again in a minute");
		return;
	}
	/* Field 15 (peer), appended: it replaces any value the caller put there. */
	hl = strlen(host);
	extra[n++] = (15 << 3) | 2;
	n += put_varint(extra + n, hl);
	memcpy(extra + n, host, hl);
	n += hl;
	to_core(a, c, m, ROLE_NONE | IPC_REQ_TRUSTD, NULL, extra, n);
}

/* --- calls handed to the core --- */

static struct pcall *pcall_find(struct apid *a, uint32_t id)
{
	for (struct pcall *p = a->calls; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void pcall_remove(struct apid *a, struct pcall *p)
{
	streams_give(a, p->cs);
	if (p->prev)
		p->prev->next = p->next;
	else
		a->calls = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

/* The client side is gone (reset, deadline, connection): tell the core, end ours. */
static void pcall_cancel(void *arg, struct grpc_call *c)
{
	struct pcall *p = arg;
	struct apid *a = p->a;

	ipc_send(a->ipc, IPC_CANCEL, p->id, 0, NULL, 0);
	grpc_call_finish(c, GRPC_CANCELLED, NULL);
	pcall_remove(a, p);
}

static void pcall_writable(void *arg, struct grpc_call *c)
{
	struct pcall *p = arg;

	(void)c;
	p->held = false;
	if (p->ack) {
		ipc_send(p->a->ipc, IPC_ACK, p->id, (uint32_t)p->ack, NULL, 0);
		p->ack = 0;
	}
}

static void to_core(struct apid *a, struct grpc_call *c, const struct api_method *m, uint32_t role,
		    struct client_streams *cs, const uint8_t *extra, size_t nextra)
{
	struct pcall *p = calloc(1, sizeof(*p));
	size_t len;
	const uint8_t *req = grpc_call_request(c, &len);
	uint8_t *msg = malloc(len + nextra + 1);

	if (!p || !msg) {
		free(p);
		free(msg);
		streams_give(a, cs);
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	msg[0] = (uint8_t)(m - api_methods);
	if (len)
		memcpy(msg + 1, req, len);
	if (nextra)
		memcpy(msg + 1 + len, extra, nextra);
	len += nextra;
	p->a = a;
	p->id = ++a->next_id;
	p->call = c;
	if (ipc_send(a->ipc, IPC_REQUEST, p->id, role, msg, len + 1) < 0) {
		free(p);
		free(msg);
		streams_give(a, cs);
		grpc_call_finish(c, GRPC_UNAVAILABLE, "machined's core cannot be reached");
		return;
	}
	p->cs = cs;
	free(msg);
	p->next = a->calls;
	if (a->calls)
		a->calls->prev = p;
	a->calls = p;
	grpc_call_on_cancel(c, pcall_cancel, p);
	grpc_call_on_writable(c, pcall_writable, p);
}

/* --- messages from the core --- */

static void on_drop(void *arg)
{
	struct apid *a = arg;

	grpc_server_close_conns(a->srv, "TLS settings changed");
}

static void fatal_core(const char *why)
{
	log_warnx("apid: %s: exiting", why);
	exit(1);
}

static void setup(struct apid *a, const uint8_t *p, size_t len, bool drop_old)
{
	Basalt__Apid__Setup *s = basalt__apid__setup__unpack(NULL, len, p);
	struct tls_opts so = { .server = true }, co = { .server = false };
	struct tls_config *t = NULL, *ct = NULL;
	char err[256];

	if (!s)
		fatal_core("a Setup that does not decode");
	so.cert_pem = s->crt;
	so.key_pem = s->key;
	if (!s->maintenance) {
		so.ca_pem = s->ca;
		so.require_peer_cert = true;
		co.cert_pem = s->client_crt;
		co.key_pem = s->client_key;
		co.ca_pem = s->ca;
	}
	/* A worker has no os:impersonator certificate: it forwards nothing. */
	if (tls_config_new(&so, &t, err, sizeof(err)) < 0 ||
	    (!s->maintenance && s->client_crt && *s->client_crt && tls_config_new(&co, &ct, err, sizeof(err)) < 0)) {
		log_warnx("apid: TLS settings refused: %s", err);
		fatal_core("unusable TLS settings");
	}
	grpc_server_set_tls(a->srv, t);
	tls_config_free(t);
	if (a->trustd) {
		struct tls_opts to = { .server = true, .cert_pem = s->crt, .key_pem = s->key };
		struct tls_config *tt = NULL;

		if (s->trustd && tls_config_new(&to, &tt, err, sizeof(err)) < 0) {
			log_warnx("apid: signing-port TLS settings refused: %s", err);
			fatal_core("unusable TLS settings");
		}
		/* Without TLS (not a control-plane node) the port refuses every connection. */
		grpc_server_set_tls(a->trustd, tt);
		tls_config_free(tt);
	}
	tls_config_free(a->client_tls);
	a->client_tls = ct;
	pool_retire(a);
	a->maintenance = s->maintenance;
	a->set_up = true;
	if (drop_old)
		loop_timer_arm(a->loop, &a->drop, DROP_DELAY_MS);
	ipc_send(a->ipc, IPC_READY, 0, s->maintenance, NULL, 0);
	/* The keys live on in the TLS configs only. */
	if (s->key)
		mbedtls_platform_zeroize(s->key, strlen(s->key));
	if (s->client_key)
		mbedtls_platform_zeroize(s->client_key, strlen(s->client_key));
	basalt__apid__setup__free_unpacked(s, NULL);
	mbedtls_platform_zeroize((void *)p, len);
}

static void on_msg(void *arg, const struct ipc_msg *m)
{
	struct apid *a = arg;
	struct pcall *p;
	int r;

	if (m->type == IPC_SETUP) {
		setup(a, m->data, m->len, m->aux != 0);
		return;
	}
	if (m->type == IPC_POLICY) {
		a->local_forwarding = (m->aux & IPC_POLICY_LOCAL_FORWARDING) != 0;
		return;
	}
	p = pcall_find(a, m->call);
	if (!p)
		return;  /* cancelled from our side meanwhile */
	if (m->type == IPC_REPLY) {
		r = grpc_call_send(p->call, m->data, m->len);
		if (r == 1)
			p->held = true;
		if (r >= 0)
			p->ack += m->len;
	} else if (m->type == IPC_FINISH) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%.*s", (int)m->len, (const char *)m->data);
		grpc_call_on_cancel(p->call, NULL, NULL);
		grpc_call_on_writable(p->call, NULL, NULL);
		grpc_call_finish(p->call, (int)m->aux, m->len ? msg : NULL);
		pcall_remove(a, p);
	}
}

/* After a batch: acknowledge what the calls' client sides have taken. */
static void on_idle(void *arg)
{
	struct apid *a = arg;

	for (struct pcall *p = a->calls; p; p = p->next)
		if (p->ack && !p->held) {
			ipc_send(a->ipc, IPC_ACK, p->id, (uint32_t)p->ack, NULL, 0);
			p->ack = 0;
		}
}

static void on_fail(void *arg, int err, const char *why)
{
	(void)arg;
	if (err == -EPIPE)
		exit(0);  /* the core is gone (it stops us this way) */
	fatal_core(why);
}

int apid_main(int argc, char **argv)
{
	struct apid a = { 0 };
	/* A client that connects before the core's first TLS settings waits for them. */
	struct grpc_server_opts so = { .handler = handler, .arg = &a, .hold_until_tls = true };
	struct ipc_opts io = { .core = false, .on_msg = on_msg, .on_fail = on_fail, .on_idle = on_idle,
			       .arg = &a };
	char err[256], host[64];
	uint16_t port;
	int fd = -1;

	log_init("apid", 2);
	prctl(PR_SET_NAME, "apid", 0, 0, 0);
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--ipc-fd") == 0)
			fd = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--listen") == 0)
			snprintf(a.listen, sizeof(a.listen), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--trustd-listen") == 0)
			snprintf(a.trustd_listen, sizeof(a.trustd_listen), "%s", argv[i + 1]);
	}
	if (fd < 0 || !a.listen[0] || api_parse_hostport(a.listen, host, sizeof(host), &port, API_PORT) < 0) {
		fprintf(stderr, "usage: machined apid --ipc-fd FD --listen ADDR:PORT [--trustd-listen ADDR:PORT] "
				"(started by machined)\n");
		return 2;
	}
	a.maintenance = true;
	a.conn_tokens = CONN_BURST;
	a.conn_tokens_ms = mono_ms();
	if (loop_new(&a.loop) < 0)
		fatalx("apid: event loop");
	loop_timer_init(&a.drop, on_drop, &a);
	loop_timer_init(&a.pool_sweep, pool_sweep, &a);
	so.loop = a.loop;
	if (grpc_server_new(&so, &a.srv) < 0)
		fatalx("apid: out of memory");
	if (grpc_server_listen(a.srv, host, port, err, sizeof(err)) < 0)
		fatalx("apid: %s", err);
	/* Listening needs bind(2), which the sandbox does not allow: both ports now. */
	if (a.trustd_listen[0]) {
		struct grpc_server_opts to = { .loop = a.loop, .handler = trustd_handler, .arg = &a,
					       .max_conns = 64 };

		if (api_parse_hostport(a.trustd_listen, host, sizeof(host), &port, API_TRUSTD_PORT) < 0 ||
		    grpc_server_new(&to, &a.trustd) < 0 || grpc_server_listen(a.trustd, host, port, err, sizeof(err)) < 0)
			fatalx("apid: --trustd-listen %s: %s", a.trustd_listen, err);
	}
	rng_ctx();  /* seeded while /dev/urandom may still be opened */
	if (sandbox_enter(err, sizeof(err)) < 0)
		fatalx("apid: sandbox: %s", err);
	io.loop = a.loop;
	io.fd = fd;
	if (ipc_new(&io, &a.ipc) < 0)
		fatalx("apid: IPC");
	log_info("serving %s as uid %d, sandboxed", a.listen, (int)getuid());
	if (loop_run(a.loop) < 0)
		fatal("apid: event loop");
	return 0;
}

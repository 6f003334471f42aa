/* SPDX-License-Identifier: MIT */
#include "machined/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "api/secrets.pb-c.h"
#include "lib/apidef.h"
#include "lib/grpc_client.h"
#include "lib/log.h"
#include "lib/pki.h"

#define MAX_NODES 32
#define FORWARD_TIMEOUT_MS 30000
#define DROP_DELAY_MS 1000

static const struct rt_input cert_in[] = { { "config", "MachineConfig", RT_WEAK },
					   { "network", "HostnameStatus", RT_WEAK } };
static const struct rt_output cert_out[] = { { "secrets", "ApiCertificate", RT_EXCLUSIVE } };

/* --- replies --- */

int api_send(struct grpc_call *c, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t stackbuf[1024], *p = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
	int r;

	if (!p)
		return -ENOMEM;
	protobuf_c_message_pack(m, p);
	r = grpc_call_send(c, p, len);
	if (p != stackbuf)
		free(p);
	return r;
}

void api_reply(struct grpc_call *c, const ProtobufCMessage *m)
{
	if (api_send(c, m) < 0 && !grpc_call_cancelled(c)) {
		grpc_call_finish(c, GRPC_INTERNAL, "out of memory");
		return;
	}
	grpc_call_finish(c, GRPC_OK, NULL);
}

/* --- the server certificate --- */

static int add_san(const char **sans, size_t *n, char store[][64], const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(sans[i], s) == 0)
			return 0;
	if (*n == PKI_MAX_SANS || strlen(s) >= 64)
		return -1;
	snprintf(store[*n], 64, "%s", s);
	sans[*n] = store[*n];
	(*n)++;
	return 0;
}

/* The names clients may dial: addresses, hostname, certSANs, the listen address. */
static size_t collect_sans(struct api *a, const Basalt__Config__Config *cfg, const char **sans,
			   char store[][64])
{
	struct ifaddrs *ifa = NULL;
	char host[256], ip[INET6_ADDRSTRLEN];
	size_t n = 0;

	add_san(sans, &n, store, "localhost");
	add_san(sans, &n, store, "127.0.0.1");
	add_san(sans, &n, store, "::1");
	if (strcmp(a->listen_addr, "0.0.0.0") != 0 && strcmp(a->listen_addr, "::") != 0)
		add_san(sans, &n, store, a->listen_addr);
	if (gethostname(host, sizeof(host)) == 0 && host[0])
		add_san(sans, &n, store, host);
	if (cfg && cfg->machine)
		for (size_t i = 0; i < cfg->machine->n_certsans; i++)
			if (add_san(sans, &n, store, cfg->machine->certsans[i]) < 0)
				log_warnx("API certificate: certSAN %s left out (too many or too long)",
					  cfg->machine->certsans[i]);
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr)
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
			else if (i->ifa_addr->sa_family == AF_INET6 &&
				 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, ip, sizeof(ip));
			else
				continue;
			add_san(sans, &n, store, ip);
		}
		freeifaddrs(ifa);
	}
	return n;
}

static char *b64_field(const char *v, const char *what, struct rt_ctx *ctx, int *r)
{
	char *s = v && *v ? pki_b64_decode(v) : NULL;

	if (!s)
		*r = rt_fail(ctx, "%s is %s", what, v && *v ? "not valid base64" : "missing");
	return s;
}

static void on_drop(void *arg)
{
	struct api *a = arg;

	log_info("API: closing the connections made under the previous TLS settings");
	grpc_server_close_conns(a->srv, "TLS settings changed");
}

/* Switches the server to new TLS; connections made before are closed a little later. */
static int use_tls(struct api *a, const struct tls_opts *o, struct rt_ctx *ctx, bool drop_old)
{
	struct tls_config *t = NULL;
	char err[256];

	if (tls_config_new(o, &t, err, sizeof(err)) < 0)
		return rt_fail(ctx, "API TLS: %s", err);
	grpc_server_set_tls(a->srv, t);
	tls_config_free(t);
	if (drop_old)
		loop_timer_arm(a->o.loop, &a->drop, DROP_DELAY_MS);
	return 0;
}

static int publish(struct api *a, struct rt_ctx *ctx, const char **sans, size_t nsans)
{
	Basalt__Secrets__ApiCertificate *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	basalt__secrets__api_certificate__init(s);
	s->mode = strdup(a->maintenance ? "maintenance" : "mtls");
	s->crt = strdup(a->crt_pem);
	s->fingerprint = strdup(a->fingerprint);
	s->ca_fingerprint = strdup(a->ca_fingerprint);
	s->sans = calloc(nsans ? nsans : 1, sizeof(char *));
	for (size_t i = 0; s->sans && i < nsans; i++)
		s->sans[s->n_sans++] = strdup(sans[i]);
	return rt_apply(ctx, res_new("secrets", "ApiCertificate", "api", &s->base));
}

static int cert_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct api *a = arg;
	const struct res *mc = rt_get(ctx, "config", "MachineConfig", "v1alpha1");
	const Basalt__Config__Config *cfg = mc ? (const void *)mc->spec : NULL;
	const char *sans[PKI_MAX_SANS];
	char store[PKI_MAX_SANS][64], err[256], ca_fp[65] = "";
	char *ca_crt = NULL, *ca_key = NULL, *crt = NULL, *ckey = NULL, *ccrt = NULL;
	size_t nsans = collect_sans(a, cfg, sans, store);
	struct pki_subject sub = { .days = 365 };
	bool maintenance = !cfg, renew, first = !a->crt_pem;
	int r = 0;

	if (!a->key_pem && pki_gen_key(&a->key_pem, err, sizeof(err)) < 0)
		return rt_fail(ctx, "API key: %s", err);
	if (!maintenance) {
		const Basalt__Config__CertAndKey *ca = cfg->machine ? cfg->machine->ca : NULL;

		ca_crt = b64_field(ca ? ca->crt : NULL, "machine.ca.crt", ctx, &r);
		if (ca_crt)
			ca_key = b64_field(ca->key, "machine.ca.key", ctx, &r);
		if (r == 0 && pki_fingerprint(ca_crt, ca_fp, err, sizeof(err)) < 0)
			r = rt_fail(ctx, "machine.ca.crt: %s", err);
		if (r < 0) {
			/* Stay as we are: without the CA no client could be verified. */
			free(ca_crt);
			pki_free_secret(ca_key);
			return r;
		}
	}
	renew = !a->crt_pem || maintenance != a->maintenance || strcmp(ca_fp, a->ca_fingerprint) != 0 ||
		!pki_cert_covers(a->crt_pem, sans, nsans);
	if (!renew)
		goto out;
	sub.cn = sans[0];
	for (size_t i = 0; i < nsans; i++)
		sub.sans[sub.nsans++] = sans[i];
	sub.server = true;
	if (maintenance) {
		struct tls_opts o = { .server = true };

		if (pki_issue(&sub, a->key_pem, NULL, NULL, &crt, err, sizeof(err)) < 0) {
			r = rt_fail(ctx, "API certificate: %s", err);
			goto out;
		}
		o.cert_pem = crt;
		o.key_pem = a->key_pem;
		if ((r = use_tls(a, &o, ctx, false)) < 0)
			goto out;
	} else {
		struct tls_opts o = { .server = true, .require_peer_cert = true };
		struct tls_opts co = { .server = false };
		struct pki_subject cs = { .cn = "basalt-node", .days = 365 };

		if (pki_issue(&sub, a->key_pem, ca_crt, ca_key, &crt, err, sizeof(err)) < 0) {
			r = rt_fail(ctx, "API certificate from machine.ca: %s", err);
			goto out;
		}
		o.cert_pem = crt;
		o.key_pem = a->key_pem;
		o.ca_pem = ca_crt;
		/* Changing CA (or leaving maintenance) closes the connections made before. */
		if ((r = use_tls(a, &o, ctx, true)) < 0)
			goto out;
		/* The certificate this node forwards requests with. */
		cs.org[cs.norg++] = PKI_ROLE_IMPERSONATOR;
		if (pki_gen_key(&ckey, err, sizeof(err)) < 0 ||
		    pki_issue(&cs, ckey, ca_crt, ca_key, &ccrt, err, sizeof(err)) < 0) {
			r = rt_fail(ctx, "forwarding certificate: %s", err);
			goto out;
		}
		co.cert_pem = ccrt;
		co.key_pem = ckey;
		co.ca_pem = ca_crt;
		tls_config_free(a->client_tls);
		a->client_tls = NULL;
		if (tls_config_new(&co, &a->client_tls, err, sizeof(err)) < 0) {
			r = rt_fail(ctx, "forwarding TLS: %s", err);
			goto out;
		}
	}
	free(a->crt_pem);
	a->crt_pem = crt;
	crt = NULL;
	pki_fingerprint(a->crt_pem, a->fingerprint, err, sizeof(err));
	snprintf(a->ca_fingerprint, sizeof(a->ca_fingerprint), "%s", ca_fp);
	free(a->ca_crt_pem);
	a->ca_crt_pem = ca_crt;
	ca_crt = NULL;
	if (maintenance && (!a->maintenance || first))
		log_info("API in maintenance mode on %s:%u: apply a config with osctl apply-config "
			 "--insecure --cert-fingerprint %s", a->listen_addr, a->port, a->fingerprint);
	else if (maintenance)
		log_info("API maintenance certificate renewed: fingerprint %s", a->fingerprint);
	else
		log_info("API serving mutual TLS on %s:%u (certificate %s, %zu names)", a->listen_addr,
			 a->port, a->fingerprint, nsans);
	a->maintenance = maintenance;
out:
	if (r == 0 && a->crt_pem)
		r = publish(a, ctx, sans, nsans);
	free(crt);
	free(ccrt);
	free(ca_crt);
	pki_free_secret(ca_key);
	pki_free_secret(ckey);
	return r;
}

/* rtnetlink address events: the certificate may need the new address. */
static void on_netlink(void *arg, uint32_t events)
{
	struct api *a = arg;
	char buf[8192];

	(void)events;
	while (recv(a->nl_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	rt_kick(a->cert_ctrl);
}

static void watch_addresses(struct api *a)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };

	a->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a->nl_fd < 0 || bind(a->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    loop_watch_add(a->o.loop, a->nl_fd, EPOLLIN, on_netlink, a, &a->nl_w) < 0) {
		log_warn("API: cannot watch addresses (the certificate will not follow them)");
		if (a->nl_fd >= 0)
			close(a->nl_fd);
		a->nl_fd = -1;
	}
}

/* --- forwarding to other nodes --- */

struct fwd;

struct fwd_node {
	struct fwd *f;
	char node[64];
	struct grpc_client *cl;
	struct grpc_ccall *cc;
	bool done;
};

struct fwd {
	struct api *a;
	struct grpc_call *call;
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

/* Rewrites an XResponse so each of its messages carries the node. */
static int merge_unary(struct buf *out, const uint8_t *p, size_t len, const uint8_t *md, size_t mdlen)
{
	size_t off = 0;

	while (off < len) {
		uint64_t tag, l;
		size_t start = off;

		if (get_varint(p, len, &off, &tag) < 0)
			return -EBADMSG;
		switch (tag & 7) {
		case 0:
			if (get_varint(p, len, &off, &l) < 0)
				return -EBADMSG;
			break;
		case 1:
			off += 8;
			break;
		case 5:
			off += 4;
			break;
		case 2:
			if (get_varint(p, len, &off, &l) < 0 || l > len - off)
				return -EBADMSG;
			if (tag == 0x0a) {
				if (append_tagged(out, p + off, l, md, mdlen, true) < 0)
					return -ENOMEM;
				off += l;
				continue;
			}
			off += l;
			break;
		default:
			return -EBADMSG;
		}
		if (off > len)
			return -EBADMSG;
		if (buf_append(out, p + start, off - start) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void fwd_free(struct fwd *f)
{
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
	for (size_t i = 0; i < f->nnodes; i++)
		if (f->nodes[i].cl)
			grpc_client_close(f->nodes[i].cl);
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
	if (!f->stream)
		return merge_unary(&f->merged, msg, len, md, mdlen) < 0;
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
	struct grpc_client *cls[MAX_NODES];
	size_t n = f->nnodes;

	(void)c;
	f->cancelled = true;
	/* Closing ends every node's call; the last one ends ours and frees f. */
	for (size_t i = 0; i < n; i++) {
		cls[i] = f->nodes[i].cl;
		f->nodes[i].cl = NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (cls[i])
			grpc_client_close(cls[i]);
}

static int parse_node(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long p = API_PORT;
	size_t hl = strlen(s);

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e)
			return -1;
		hl = (size_t)(e - s - 1);
		s++;
		colon = e[1] == ':' ? e + 1 : NULL;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL;  /* a bare IPv6 address */
	} else if (colon) {
		hl = (size_t)(colon - s);
	}
	if (colon) {
		char *end;

		p = strtoul(colon + 1, &end, 10);
		if (*end || p == 0 || p > 65535)
			return -1;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static void forward(struct api *a, struct grpc_call *c, const struct api_method *m, enum pki_role role,
		    const char *nodes)
{
	struct fwd *f = calloc(1, sizeof(*f));
	char list[1024], *save = NULL, err[256], host[64];
	struct grpc_md md[2];
	uint64_t timeout = FORWARD_TIMEOUT_MS, dl = grpc_call_deadline(c);
	size_t len;
	const uint8_t *req = grpc_call_request(c, &len);

	if (!f) {
		grpc_call_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	if (!a->client_tls) {
		free(f);
		grpc_call_finish(c, GRPC_FAILED_PRECONDITION, "this node has no forwarding certificate yet");
		return;
	}
	f->a = a;
	f->call = c;
	f->stream = m->stream;
	buf_init(&f->merged);
	snprintf(list, sizeof(list), "%s", nodes);
	for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		uint16_t port;

		if (f->nnodes == MAX_NODES || parse_node(tok, host, sizeof(host), &port) < 0 ||
		    inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, err) != 1) {
			char msg[200];

			if (f->nnodes == MAX_NODES)
				snprintf(msg, sizeof(msg), "nodes: more than %d nodes", MAX_NODES);
			else
				snprintf(msg, sizeof(msg), "nodes: %.100s is not an IP address (with an optional :port)", tok);
			fwd_free(f);
			grpc_call_finish(c, GRPC_INVALID_ARGUMENT, msg);
			return;
		}
		snprintf(f->nodes[f->nnodes++].node, sizeof(f->nodes[0].node), "%s", tok);
	}
	if (f->nnodes == 0) {
		fwd_free(f);
		grpc_call_finish(c, GRPC_INVALID_ARGUMENT, "nodes: no node named");
		return;
	}
	if (dl) {
		uint64_t now = mono_ms();

		timeout = dl > now ? dl - now : 1;
	} else if (m->stream) {
		timeout = 0;
	}
	md[0] = (struct grpc_md){ API_MD_ROLE, pki_role_name(role) };
	md[1] = (struct grpc_md){ API_MD_FORWARDED, a->listen_addr };
	grpc_call_on_cancel(c, fwd_cancel, f);
	grpc_call_on_writable(c, fwd_writable, f);
	f->pending = f->nnodes;
	for (size_t i = 0; i < f->nnodes; i++) {
		struct fwd_node *n = &f->nodes[i];
		struct grpc_client_opts o = { .loop = a->o.loop, .numeric_only = true, .tls = a->client_tls,
					      .connect_timeout_ms = 5000 };
		uint16_t port;
		bool last;

		n->f = f;
		err[0] = '\0';
		parse_node(n->node, host, sizeof(host), &port);
		o.host = host;
		o.port = port;
		if (grpc_client_new(&o, &n->cl, err, sizeof(err)) < 0 ||
		    grpc_client_call(n->cl, m->path, md, 2, req, len, timeout, fwd_node_msg, fwd_node_done,
				     n, &n->cc) < 0) {
			/* Reported like an unreachable node; done is not called for these. */
			n->cc = NULL;
			if (n->cl) {
				grpc_client_free(n->cl);
				n->cl = NULL;
			}
			last = f->pending == 1;
			fwd_node_done(n, GRPC_UNAVAILABLE, err[0] ? err : "could not start the call");
			if (last)
				return;  /* fwd_end ran and freed f */
		}
	}
}

/* --- authorisation and dispatch --- */

static void handler(void *arg, struct grpc_call *c)
{
	struct api *a = arg;
	const char *path = grpc_call_method(c);
	const struct api_method *m = api_method_find(path);
	const mbedtls_x509_crt *crt = grpc_call_peer_cert(c);
	const char *nodes = grpc_call_header(c, API_MD_NODES);
	enum pki_role role;
	char msg[256];

	if (!m) {
		snprintf(msg, sizeof(msg), "unknown method %.200s", path);
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
		api_rpc_dispatch(a, c, m->name, ROLE_ADMIN);
		return;
	}
	if (!crt) {
		/* Made in maintenance mode, before the config: it has no identity. */
		grpc_call_finish(c, GRPC_UNAUTHENTICATED, "no client certificate: reconnect with one");
		return;
	}
	role = pki_cert_role(crt);
	if (pki_cert_has_org(crt, PKI_ROLE_IMPERSONATOR)) {
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
	if (nodes && *nodes) {
		forward(a, c, m, role, nodes);
		return;
	}
	api_rpc_dispatch(a, c, m->name, role);
}

/* --- power, after the reply --- */

static void on_power_reply(void *arg, int error, const char *message)
{
	(void)arg;
	if (error)
		log_warnx("init refused the power request: %s", message);
}

static void on_power(void *arg)
{
	struct api *a = arg;

	if (initctrl_power(a->o.init, a->power_action, on_power_reply, a) < 0)
		log_warnx("cannot reach init to %s", a->power_action == BASALT__INIT__POWER_ACTION__POWER_REBOOT
							 ? "reboot" : "power off");
}

void api_schedule_power(struct api *a, int action)
{
	a->power_action = action;
	/* Time for the reply to reach the client before services stop. */
	loop_timer_arm(a->o.loop, &a->power, 500);
}

/* --- lifetime --- */

static int parse_listen(struct api *a, const char *s, char *err, size_t errlen)
{
	if (!s)
		s = "0.0.0.0:50000";
	if (parse_node(s, a->listen_addr, sizeof(a->listen_addr), &a->port) < 0) {
		snprintf(err, errlen, "--api-listen %s: expected ADDRESS:PORT", s);
		return -EINVAL;
	}
	return 0;
}

int api_start(struct api *a, const struct api_opts *o, char *err, size_t errlen)
{
	struct grpc_server_opts so = { .loop = o->loop, .handler = handler, .arg = a };
	struct rt_controller cert = { "ApiCertController", cert_in, 2, cert_out, 1, cert_reconcile, a };
	int r;

	memset(a, 0, sizeof(*a));
	a->o = *o;
	a->st = rt_store(o->rt);
	a->nl_fd = -1;
	a->maintenance = true;
	loop_timer_init(&a->drop, on_drop, a);
	loop_timer_init(&a->power, on_power, a);
	if ((r = parse_listen(a, o->listen, err, errlen)) < 0)
		return r;
	if (grpc_server_new(&so, &a->srv) < 0) {
		snprintf(err, errlen, "API server: out of memory");
		return -ENOMEM;
	}
	/* Nothing is accepted before the certificate controller has set up TLS. */
	r = grpc_server_listen(a->srv, a->listen_addr, a->port, err, errlen);
	if (r == 0)
		r = rt_register(o->rt, &cert, &a->cert_ctrl, err, errlen);
	if (r < 0) {
		grpc_server_free(a->srv);
		a->srv = NULL;
		return r;
	}
	a->port = grpc_server_port(a->srv);
	a->crt_pem = NULL;
	watch_addresses(a);
	return 0;
}

void api_stop(struct api *a)
{
	loop_timer_cancel(a->o.loop, &a->drop);
	loop_timer_cancel(a->o.loop, &a->power);
	loop_timer_cancel(a->o.loop, &a->try_timer);
	grpc_server_free(a->srv);
	a->srv = NULL;
	if (a->nl_w)
		loop_watch_del(a->o.loop, a->nl_w);
	if (a->nl_fd >= 0)
		close(a->nl_fd);
	tls_config_free(a->client_tls);
	pki_free_secret(a->key_pem);
	free(a->crt_pem);
	free(a->ca_crt_pem);
	free(a->try_prev);
}

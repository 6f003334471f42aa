/* SPDX-License-Identifier: MIT */
#include "machined/api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "api/network.pb-c.h"
#include "api/apid.pb-c.h"
#include "api/secrets.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/backoff.h"
#include "lib/grpc_client.h"
#include "lib/grpc.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/pki.h"
#include "lib/spawn.h"

#define RESTART_MS 1000
#define APID_HEALTHY_MS 30000   /* an apid that ran this long resets the restart backoff */
#define STR_(x) #x
#define STR(x) STR_(x)
#define HIGH_WATER (1u << 20)   /* reply bytes apid has not taken before send says wait */

static const struct rt_input cert_in[] = { { RES(MACHINE_CONFIG), RT_WEAK },
					   { RES(HOSTNAME_STATUS), RT_WEAK },
					   { RES(NODE_ADDRESS), RT_WEAK } };
static const struct rt_output cert_out[] = { { RES(API_CERTIFICATE), RT_EXCLUSIVE } };

/* --- replies --- */

int api_send(struct apicall *c, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t stackbuf[1024], *p = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
	int r;

	if (!p)
		return -ENOMEM;
	protobuf_c_message_pack(m, p);
	r = apicall_send(c, p, len);
	if (p != stackbuf)
		free(p);
	return r;
}

void api_reply(struct apicall *c, const ProtobufCMessage *m)
{
	if (api_send(c, m) < 0 && !apicall_cancelled(c)) {
		apicall_finish(c, GRPC_INTERNAL, "out of memory");
		return;
	}
	apicall_finish(c, GRPC_OK, NULL);
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

/*
 * The names clients may dial: the loopback, the listen address, the hostname (and FQDN),
 * certSANs, and every address the node has had (network/NodeAddress/accumulative: an
 * address going away reissues nothing; a new one is added).
 */
static size_t collect_sans(struct api *a, struct rt_ctx *ctx, const Basalt__Config__Config *cfg,
			   const Basalt__Network__HostnameStatus *hs, const char **sans, char store[][64])
{
	char fqdn[256];
	size_t n = 0;
	const Basalt__Network__NodeAddress *na =
		res_spec(rt_get(ctx, RES(NODE_ADDRESS), "accumulative"), RES(NODE_ADDRESS));

	add_san(sans, &n, store, "localhost");
	add_san(sans, &n, store, "127.0.0.1");
	add_san(sans, &n, store, "::1");
	if (strcmp(a->listen_addr, "0.0.0.0") != 0 && strcmp(a->listen_addr, "::") != 0)
		add_san(sans, &n, store, a->listen_addr);
	if (hs && hs->hostname && hs->hostname[0]) {
		add_san(sans, &n, store, hs->hostname);
		if (hs->domainname && hs->domainname[0]) {
			snprintf(fqdn, sizeof(fqdn), "%s.%s", hs->hostname, hs->domainname);
			add_san(sans, &n, store, fqdn);
		}
	}
	if (cfg && cfg->machine)
		for (size_t i = 0; i < cfg->machine->n_certsans; i++)
			if (add_san(sans, &n, store, cfg->machine->certsans[i]) < 0)
				log_warnx("API certificate: certSAN %s left out (too many or too long)",
					  cfg->machine->certsans[i]);
	if (na)
		for (size_t i = 0; i < na->n_addresses; i++)
			add_san(sans, &n, store, na->addresses[i]);
	return n;
}

static char *b64_field(const char *v, const char *what, struct rt_ctx *ctx, int *r)
{
	char *s = v && *v ? pki_b64_decode(v) : NULL;

	if (!s)
		*r = rt_fail(ctx, "%s is %s", what, v && *v ? "not valid base64" : "missing");
	return s;
}

/* What apid is to allow, from the config in force; sent when it changes and to a new apid. */
static void send_policy(struct api *a)
{
	if (a->ipc && ipc_send(a->ipc, IPC_POLICY, 0, a->policy, NULL, 0) < 0)
		log_warnx("API: cannot give apid its policy");
}

static void set_policy(struct api *a, const Basalt__Config__Config *cfg)
{
	const Basalt__Config__Features *f = cfg && cfg->machine ? cfg->machine->features : NULL;
	uint32_t p = f && f->has_localforwarding && f->localforwarding ? IPC_POLICY_LOCAL_FORWARDING : 0;

	if (p != a->policy) {
		a->policy = p;
		send_policy(a);
	}
}

/* drop_old: apid closes the connections made under its previous settings (IPC aux). */
static void send_setup(struct api *a, bool drop_old)
{
	if (a->ipc && a->setup.len &&
	    ipc_send(a->ipc, IPC_SETUP, 0, drop_old, buf_head(&a->setup), a->setup.len) < 0)
		log_warnx("API: cannot give apid its TLS settings");
}

/* Records the TLS settings apid is to use and gives them to it. */
static int use_tls(struct api *a, Basalt__Apid__Setup *s, bool drop_old, struct rt_ctx *ctx)
{
	size_t n = protobuf_c_message_get_packed_size(&s->base);

	/* The last Setup holds the server and forwarding keys: wiped before it is replaced. */
	buf_fini_secret(&a->setup);
	if (buf_reserve(&a->setup, n) < 0)
		return rt_fail(ctx, "out of memory");
	protobuf_c_message_pack(&s->base, buf_tail(&a->setup));
	a->setup.len = n;
	send_setup(a, drop_old);
	return 0;
}

static int publish(struct api *a, struct rt_ctx *ctx, const char **sans, size_t nsans)
{
	Basalt__Secrets__ApiCertificate *s = malloc(sizeof(*s));
	char t[32] = "";

	if (!s)
		return -ENOMEM;
	basalt__secrets__api_certificate__init(s);
	if (a->not_after > 0) {
		time_t na = (time_t)a->not_after;
		struct tm tm;

		gmtime_r(&na, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	s->mode = strdup(a->maintenance ? "maintenance" : "mtls");
	s->crt = strdup(a->crt_pem);
	s->fingerprint = strdup(a->fingerprint);
	s->ca_fingerprint = strdup(a->ca_fingerprint);
	s->not_after = strdup(t);
	s->state = strdup(a->cert_state);
	s->issuer = strdup(a->issuer);
	s->error = strdup(a->fetch_error);
	s->sans = calloc(nsans ? nsans : 1, sizeof(char *));
	for (size_t i = 0; s->sans && i < nsans; i++)
		s->sans[s->n_sans++] = strdup(sans[i]);
	return rt_apply(ctx, res_new(RES(API_CERTIFICATE), "api", &s->base));
}

/*
 * The CA the API trusts, decoded, with its fingerprint: machine.ca of the config in force,
 * else the identity kept from the last committed one; its key where this node has it
 * (*key NULL on a worker that gets its certificate from a control-plane node). 0 or
 * rt_fail's value.
 */
static int load_ca(struct rt_ctx *ctx, const Basalt__Config__Config *cfg, const struct config_holder *h,
		   char **crt, char **key, char fp[65])
{
	const Basalt__Config__CertAndKey *ca = cfg && cfg->machine ? cfg->machine->ca : NULL;
	const char *c = ca ? ca->crt : h->id_crt, *k = ca ? ca->key : h->id_key;
	char err[256];
	int r = 0;

	*crt = b64_field(c, "machine.ca.crt", ctx, &r);
	*key = *crt && k && *k ? b64_field(k, "machine.ca.key", ctx, &r) : NULL;
	if (r == 0 && pki_fingerprint(*crt, fp, err, sizeof(err)) < 0)
		r = rt_fail(ctx, "machine.ca.crt: %s", err);
	if (r < 0) {
		free(*crt);
		pki_free_secret(*key);
		*crt = *key = NULL;
	}
	return r;
}

static bool is_controlplane(const Basalt__Config__Config *cfg)
{
	return cfg && cfg->machine && cfg->machine->type && strcmp(cfg->machine->type, "controlplane") == 0;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Wakes the certificate controller at t (Unix seconds), or sooner if already armed sooner. */
static void renew_at(struct api *a, int64_t t)
{
	int64_t now = now_s();
	uint64_t ms = t > now ? (uint64_t)(t - now) * 1000 : 0;

	loop_timer_arm(a->o.loop, &a->renew, ms);
}

/*
 * Hands apid its TLS settings: the server certificate and key, the CA clients are checked
 * against (none: maintenance), and on a control-plane node the os:impersonator certificate
 * it forwards with (short-lived: API_IMPERSONATOR_HOURS) and the signing port.
 */
static int give_tls(struct api *a, struct rt_ctx *ctx, const char *crt, const char *ca_crt,
		    const char *ca_key, bool controlplane, bool drop_old)
{
	Basalt__Apid__Setup s = BASALT__APID__SETUP__INIT;
	unsigned life = a->o.signed_lifetime_s ? a->o.signed_lifetime_s : API_IMPERSONATOR_HOURS * 3600;
	struct pki_subject cs = { .cn = "basalt-node", .seconds = life };
	char err[256], *ckey = NULL, *ccrt = NULL;
	int r;

	s.crt = (char *)crt;
	s.key = a->key_pem;
	s.maintenance = !ca_crt;
	s.ca = (char *)ca_crt;
	if (controlplane && ca_key) {
		cs.org[cs.norg++] = PKI_ROLE_IMPERSONATOR;
		if (pki_gen_key(&ckey, err, sizeof(err)) < 0 ||
		    pki_issue(&cs, ckey, ca_crt, ca_key, &ccrt, err, sizeof(err)) < 0) {
			pki_free_secret(ckey);
			return rt_fail(ctx, "forwarding certificate: %s", err);
		}
		s.client_crt = ccrt;
		s.client_key = ckey;
		s.trustd = true;
		a->imp_renew = now_s() + life / 2;
		renew_at(a, a->imp_renew);
		log_info("API: forwarding certificate (os:impersonator) issued for %u s, renewed in %u s", life, life / 2);
	} else {
		a->imp_renew = 0;
	}
	a->trustd_on = s.trustd;
	r = use_tls(a, &s, drop_old, ctx);
	free(ccrt);
	pki_free_secret(ckey);
	return r;
}

/* What to log once apid has the new certificate in force (IPC_READY): "connect now". */
static void note_ready(struct api *a, bool maintenance, bool first, size_t nsans)
{
	if (maintenance && (!a->maintenance || first))
		snprintf(a->ready_msg, sizeof(a->ready_msg), "API in maintenance mode on %s:%u: apply a "
			 "config with osctl apply-config --insecure --cert-fingerprint %s", a->listen_addr,
			 a->port, a->fingerprint);
	else if (maintenance)
		snprintf(a->ready_msg, sizeof(a->ready_msg), "API maintenance certificate renewed: "
			 "fingerprint %s", a->fingerprint);
	else
		snprintf(a->ready_msg, sizeof(a->ready_msg), "API serving mutual TLS on %s:%u "
			 "(certificate %s, %zu names, from %s)", a->listen_addr, a->port, a->fingerprint, nsans,
			 a->issuer);
}

/* Puts crt (taken over) in force as the server certificate. */
static void set_crt(struct api *a, char *crt, const char *ca_fp, bool maintenance, bool first, size_t nsans)
{
	char err[256];

	free(a->crt_pem);
	a->crt_pem = crt;
	pki_fingerprint(a->crt_pem, a->fingerprint, err, sizeof(err));
	snprintf(a->ca_fingerprint, sizeof(a->ca_fingerprint), "%s", ca_fp);
	note_ready(a, maintenance, first, nsans);
	a->maintenance = maintenance;
}

/* --- a worker's certificate, from a control-plane node (port 50001) --- */

static const struct backoff fetch_backoff = { 1000, 2000, 60000 };

static void fetch_fail(struct api *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fetch_fail(struct api *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->fetch_error, sizeof(a->fetch_error), fmt, ap);
	va_end(ap);
	log_warnx("API certificate from %s: %s", a->fetch_from, a->fetch_error);
	a->fetch_wait = true;
	/* The next signer at once (a second later); the backoff grows with each round of them all. */
	a->fetch_attempts++;
	loop_timer_arm(a->o.loop, &a->renew,
		       backoff_delay_ms(&fetch_backoff, 1 + (a->fetch_attempts - 1) / (a->fetch_signers ? a->fetch_signers : 1)));
}

static int fetch_msg(void *arg, const uint8_t *m, size_t n)
{
	struct api *a = arg;

	return buf_append(&a->fetch_resp, m, n) < 0 ? -1 : 0;
}

static void fetch_done(void *arg, int code, const char *message)
{
	struct api *a = arg;
	Basalt__Security__CertificateResponse *r = NULL;
	char err[256];
	int64_t na = 0;

	a->fetching = false;
	grpc_client_close(a->fetch_cl);
	a->fetch_cl = NULL;
	if (code != GRPC_OK) {
		fetch_fail(a, "%s: %s", grpc_code_name(code), message ? message : "");
	} else if (!(r = basalt__security__certificate_response__unpack(NULL, a->fetch_resp.len,
									 buf_head(&a->fetch_resp))) || !r->crt) {
		fetch_fail(a, "the reply is not a CertificateResponse");
	} else if (pki_check_issued(r->crt, a->fetch_ca, a->key_pem, &na, err, sizeof(err)) < 0) {
		fetch_fail(a, "the certificate it sent: %s", err);
	} else {
		free(a->fetched_crt);
		a->fetched_crt = strdup(r->crt);
		a->fetched_not_after = na;
		a->fetch_attempts = 0;
		a->fetch_error[0] = '\0';
	}
	if (r)
		basalt__security__certificate_response__free_unpacked(r, NULL);
	buf_fini(&a->fetch_resp);
	rt_kick(a->cert_ctrl);
}

static void fetch_start(struct api *a, const Basalt__Config__Config *cfg, const char *ca_crt,
			const char **sans, size_t nsans)
{
	Basalt__Security__CertificateRequest req = BASALT__SECURITY__CERTIFICATE_REQUEST__INIT;
	struct tls_opts to = { .server = false, .ca_pem = ca_crt };
	struct grpc_client_opts co = { .loop = a->o.loop, .connect_timeout_ms = 5000 };
	struct tls_config *tls = NULL;
	const Basalt__Config__ControlPlane *cp = cfg->cluster ? cfg->cluster->controlplane : NULL;
	char err[256], *csr = NULL, host[256];
	unsigned port = 0;
	struct url u;
	uint8_t *msg = NULL;
	size_t len;

	if (a->fetching || a->fetch_wait)
		return;
	if (cp && cp->n_certificatesigners) {
		/* cluster.controlPlane.certificateSigners, in turn: each failure moves to the next. */
		size_t i = a->fetch_attempts % cp->n_certificatesigners;

		a->fetch_signers = (unsigned)cp->n_certificatesigners;
		if (!parse_host_opt_port(cp->certificatesigners[i], host, sizeof(host), &port)) {
			snprintf(a->fetch_from, sizeof(a->fetch_from), "cluster.controlPlane.certificateSigners/%zu", i);
			fetch_fail(a, "not a host or host:port");
			return;
		}
	} else {
		/* The signing port is on the host of cluster.controlPlane.endpoint (https://HOST:PORT). */
		a->fetch_signers = 1;
		if (!cp || !cp->endpoint || !parse_url(cp->endpoint, &u) || strcmp(u.scheme, "https") != 0) {
			snprintf(a->fetch_from, sizeof(a->fetch_from), "cluster.controlPlane.endpoint");
			fetch_fail(a, "not an https:// URL with a host: nowhere to ask for a certificate");
			return;
		}
		snprintf(host, sizeof(host), "%s", u.host);
	}
	if (!port)
		port = API_PORT + 1;
	co.port = (uint16_t)port;
	snprintf(a->fetch_from, sizeof(a->fetch_from), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	free(a->fetch_ca);
	a->fetch_ca = strdup(ca_crt);
	co.host = host;
	if (!a->fetch_ca || tls_config_new(&to, &tls, err, sizeof(err)) < 0 ||
	    pki_csr_new(a->key_pem, sans[0], &csr, err, sizeof(err)) < 0) {
		fetch_fail(a, "%s", a->fetch_ca ? err : "out of memory");
		goto out;
	}
	co.tls = tls;
	req.csr = csr;
	req.token = cfg->machine->token;
	req.names = (char **)sans;
	req.n_names = nsans;
	len = protobuf_c_message_get_packed_size(&req.base);
	msg = malloc(len);
	if (!msg) {
		fetch_fail(a, "out of memory");
		goto out;
	}
	protobuf_c_message_pack(&req.base, msg);
	buf_init(&a->fetch_resp);
	if (grpc_client_new(&co, &a->fetch_cl, err, sizeof(err)) < 0) {
		fetch_fail(a, "%s", err);
		goto out;
	}
	if (grpc_client_call(a->fetch_cl, "/basalt.security.SecurityService/Certificate", NULL, 0, msg, len,
			     10000, fetch_msg, fetch_done, a, NULL) < 0) {
		grpc_client_free(a->fetch_cl);
		a->fetch_cl = NULL;
		fetch_fail(a, "could not start the call");
		goto out;
	}
	a->fetching = true;
	log_info("API certificate: asking %s", a->fetch_from);
out:
	free(msg);
	free(csr);
	tls_config_free(tls);
}

static void on_renew(void *arg)
{
	struct api *a = arg;

	a->fetch_wait = false;
	rt_kick(a->cert_ctrl);
}

/* A worker without the CA key: its certificate comes from a control-plane node. */
static int worker_cert(struct api *a, struct rt_ctx *ctx, const Basalt__Config__Config *cfg,
		       const char *ca_crt, const char *ca_fp, const char **sans, size_t nsans, bool first)
{
	int64_t now = now_s();

	if (a->fetched_crt) {
		char *crt = a->fetched_crt;
		int64_t life = a->fetched_not_after - now;
		int r;

		a->fetched_crt = NULL;
		snprintf(a->issuer, sizeof(a->issuer), "%s", a->fetch_from);
		a->not_after = a->fetched_not_after;
		a->from_cp = true;
		r = give_tls(a, ctx, crt, ca_crt, NULL, false, strcmp(ca_fp, a->ca_fingerprint) != 0 || a->maintenance);
		if (r < 0) {
			free(crt);
			return r;
		}
		set_crt(a, crt, ca_fp, false, first, nsans);
		snprintf(a->cert_state, sizeof(a->cert_state), "issued");
		/* Renewed with a third of its life left. */
		a->cert_renew = now + (life > 0 ? life * 2 / 3 : 0);
		renew_at(a, a->cert_renew);
		/* The names may have changed while it was asked for (the hostname, an address). */
	}
	if (a->from_cp && strcmp(ca_fp, a->ca_fingerprint) == 0 && pki_cert_covers(a->crt_pem, sans, nsans) &&
	    now < a->cert_renew)
		return 0;
	if (!a->from_cp)
		snprintf(a->cert_state, sizeof(a->cert_state), "pending");
	fetch_start(a, cfg, ca_crt, sans, nsans);
	return 0;
}

static int cert_reconcile(struct rt_ctx *ctx, void *arg)
{
	struct api *a = arg;
	const struct res *mc = rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1");
	const Basalt__Config__Config *cfg = res_spec(mc, RES(MACHINE_CONFIG));
	const char *sans[PKI_MAX_SANS];
	char store[PKI_MAX_SANS][64], err[256], ca_fp[65] = "";
	char *ca_crt = NULL, *ca_key = NULL, *crt = NULL;
	const struct res *hr = rt_get(ctx, RES(HOSTNAME_STATUS), "hostname");
	size_t nsans = collect_sans(a, ctx, cfg, res_spec(hr, RES(HOSTNAME_STATUS)), sans, store);
	struct pki_subject sub = { .days = 365, .server = true };
	bool maintenance = !cfg && config_maintenance(a->o.config), first = !a->crt_pem;
	bool cp = is_controlplane(cfg);
	int r = 0;

	set_policy(a, cfg);
	if (!a->key_pem && pki_gen_key(&a->key_pem, err, sizeof(err)) < 0)
		return rt_fail(ctx, "API key: %s", err);
	/* Without the CA no client could be verified: stay as we are. */
	if (!maintenance && (r = load_ca(ctx, cfg, a->o.config, &ca_crt, &ca_key, ca_fp)) < 0)
		return r;
	if (!maintenance && !ca_key && cfg) {
		r = worker_cert(a, ctx, cfg, ca_crt, ca_fp, sans, nsans, first);
		goto out;
	}
	/* A maintenance certificate is pinned by its fingerprint, not checked by name: an address
	 * that arrives later (DHCP) must not change the fingerprint the console showed. */
	if (a->crt_pem && !a->from_cp && maintenance == a->maintenance && strcmp(ca_fp, a->ca_fingerprint) == 0 &&
	    (maintenance || pki_cert_covers(a->crt_pem, sans, nsans)) && a->trustd_on == (cp && ca_key) &&
	    (!a->imp_renew || now_s() < a->imp_renew))
		goto out;
	sub.cn = sans[0];
	for (size_t i = 0; i < nsans; i++)
		sub.sans[sub.nsans++] = sans[i];
	if (pki_issue(&sub, a->key_pem, ca_crt, ca_key, &crt, err, sizeof(err)) < 0) {
		r = rt_fail(ctx, "API certificate%s: %s", ca_crt ? " from machine.ca" : "", err);
		goto out;
	}
	/* Changing CA (or leaving maintenance) closes the connections made before. */
	if ((r = give_tls(a, ctx, crt, ca_crt, ca_key, cp, ca_crt && strcmp(ca_fp, a->ca_fingerprint) != 0)) < 0)
		goto out;
	a->from_cp = false;
	a->not_after = now_s() + 365 * 86400;
	snprintf(a->issuer, sizeof(a->issuer), "%s", maintenance ? "self-signed" : "self");
	snprintf(a->cert_state, sizeof(a->cert_state), "issued");
	a->fetch_error[0] = '\0';
	set_crt(a, crt, ca_fp, maintenance, first, nsans);
	crt = NULL;
out:
	if (r == 0 && a->crt_pem)
		r = publish(a, ctx, sans, nsans);
	free(crt);
	free(ca_crt);
	pki_free_secret(ca_key);
	return r;
}

/* --- calls handed over by apid --- */

struct apicall {
	struct api *a;
	uint32_t id;
	bool maintenance;            /* made without identity, before the node had a config */
	uint8_t method;              /* enum api_method_id */
	const uint8_t *req;          /* the IPC message's bytes: only while it is dispatched */
	size_t reqlen;
	bool cancelled;
	bool want_writable;
	size_t unacked;
	apicall_fn *cancel_fn, *writable_fn;
	void *cancel_arg, *writable_arg;
	struct apicall *prev, *next;
};

const uint8_t *apicall_request(const struct apicall *c, size_t *len)
{
	/* The request is read in place, while its handler runs from on_ipc_msg: no call keeps
	 * its request bytes, so what apid hands over costs the core one message at a time. */
	if (c->a->dispatching != c) {
		*len = 0;
		return NULL;
	}
	*len = c->reqlen;
	return c->req;
}

enum api_method_id apicall_method(const struct apicall *c)
{
	return (enum api_method_id)c->method;
}

bool apicall_cancelled(const struct apicall *c)
{
	return c->cancelled;
}

bool apicall_maintenance(const struct apicall *c)
{
	return c->maintenance;
}

void apicall_on_cancel(struct apicall *c, apicall_fn *fn, void *arg)
{
	c->cancel_fn = fn;
	c->cancel_arg = arg;
}

void apicall_on_writable(struct apicall *c, apicall_fn *fn, void *arg)
{
	c->writable_fn = fn;
	c->writable_arg = arg;
}

size_t apicall_queued(const struct apicall *c)
{
	return c->unacked;
}

int apicall_send(struct apicall *c, const void *msg, size_t len)
{
	if (c->cancelled || !c->a->ipc)
		return -ECANCELED;
	if (ipc_send(c->a->ipc, IPC_REPLY, c->id, 0, msg, len) < 0)
		return -ECANCELED;
	c->unacked += len;
	if (c->unacked > HIGH_WATER) {
		c->want_writable = true;
		return 1;
	}
	return 0;
}

static void call_unlink(struct api *a, struct apicall *c)
{
	if (c->prev || c->next || a->calls == c) {
		a->ncalls--;
		a->nstreams -= api_methods[c->method].stream;
		a->nlogs -= c->method == API_LOGS;
	}
	if (c->prev)
		c->prev->next = c->next;
	else if (a->calls == c)
		a->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

void apicall_finish(struct apicall *c, int code, const char *message)
{
	struct api *a = c->a;

	if (!c->cancelled && a->ipc)
		ipc_send(a->ipc, IPC_FINISH, c->id, (uint32_t)code, message, message ? strlen(message) : 0);
	call_unlink(a, c);
	free(c);
}

static struct apicall *call_find(struct api *a, uint32_t id)
{
	for (struct apicall *c = a->calls; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void call_cancel(struct apicall *c)
{
	if (c->cancelled)
		return;
	c->cancelled = true;
	if (c->cancel_fn)
		c->cancel_fn(c->cancel_arg, c);
}

/* --- apid, the unprivileged half --- */

static void start_apid(struct api *a);

static void on_restart(void *arg)
{
	start_apid(arg);
}

/*
 * Starts apid again after a delay that grows while it keeps dying soon after its start
 * (lib/backoff), and is short again once one ran a while.
 */
static void restart_later(struct api *a)
{
	static const struct backoff b = { RESTART_MS, 2 * RESTART_MS, 30000 };

	if (a->apid_started_ms && mono_ms() - a->apid_started_ms > APID_HEALTHY_MS)
		a->apid_fails = 0;
	loop_timer_arm(a->o.loop, &a->restart, backoff_delay_ms(&b, ++a->apid_fails));
}

/* Reaps apid (killing it if need be), cancels its calls, and starts another later. */
static void lose_apid(struct api *a, const char *why)
{
	int st = 0;
	pid_t r;

	/* A process that already exited keeps its own status: SIGKILL does not replace it. */
	kill(a->apid, SIGKILL);
	r = waitpid(a->apid, &st, 0);
	if (r == a->apid && WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		log_warnx("API: apid (pid %d) %s; killed by signal %d%s", (int)a->apid, why, WTERMSIG(st),
			  WTERMSIG(st) == SIGSYS ? " (a system call outside its allowlist)" : "");
	else if (r == a->apid && WIFEXITED(st))
		log_warnx("API: apid (pid %d) %s; exit status %d", (int)a->apid, why, WEXITSTATUS(st));
	else
		log_warnx("API: apid (pid %d) %s; stopped", (int)a->apid, why);
	a->apid = 0;
	ipc_free(a->ipc);
	a->ipc = NULL;
	while (a->calls) {
		struct apicall *c = a->calls;

		call_cancel(c);
		/* A call whose RPC had no cancel hook is released here. */
		if (a->calls == c && c->cancel_fn == NULL) {
			call_unlink(a, c);
			free(c);
		}
	}
	restart_later(a);
}

static void on_ipc_fail(void *arg, int err, const char *why)
{
	struct api *a = arg;
	char what[256];

	snprintf(what, sizeof(what), "%s: %s", err == -EPROTO ? "sent a malformed message" : "went away", why);
	lose_apid(a, what);
}

/*
 * The core's own check of a call apid hands over, against lib/apidef.c's table: never
 * apid's word alone. GRPC_OK with the role the call runs with; another gRPC code with why
 * for a call that is refused; -1 when apid broke its side of the table (it is killed).
 */
static int admit(struct api *a, const struct api_method *m, uint32_t aux, enum pki_role *role,
		 const char **why)
{
	uint32_t claimed = aux & IPC_REQ_ROLE_MASK;

	if ((aux & ~(IPC_REQ_ROLE_MASK | IPC_REQ_MAINTENANCE | IPC_REQ_TRUSTD)) || claimed > ROLE_ADMIN) {
		*why = "unknown bits in the request header";
		return -1;
	}
	if (m->trustd != !!(aux & IPC_REQ_TRUSTD)) {
		*why = m->trustd ? "the signing method off the signing port" : "an API method on the signing port";
		return -1;
	}
	if (aux & IPC_REQ_TRUSTD) {
		if (aux & ~(IPC_REQ_TRUSTD)) {
			*why = "a role or maintenance claimed for a signing request";
			return -1;
		}
		*role = ROLE_NONE;  /* the request proves the machine token; the RPC checks it */
	} else if (aux & IPC_REQ_MAINTENANCE) {
		if (claimed != ROLE_NONE || !m->maintenance) {
			*why = claimed != ROLE_NONE ? "a role claimed for a call without identity"
						    : "not served in maintenance mode";
			return -1;
		}
		/* Maintenance ends when a config is in force, not when apid hears of it. */
		if (!config_maintenance(a->o.config)) {
			*why = "maintenance mode is over: this node has a config in force; connect with a "
			       "client certificate of its CA (not --insecure)";
			return GRPC_FAILED_PRECONDITION;
		}
		*role = ROLE_ADMIN;
	} else {
		if (claimed < m->role) {
			*why = "the caller's role is below the method's";
			return -1;
		}
		if (a->maintenance) {
			*why = "the node is in maintenance mode: only calls without a client certificate are served";
			return GRPC_FAILED_PRECONDITION;
		}
		*role = (enum pki_role)claimed;
	}
	if (a->ncalls >= API_CORE_MAX_CALLS) {
		*why = "too many calls in progress on this node: try again shortly";
		return GRPC_RESOURCE_EXHAUSTED;
	}
	if (m->stream && a->nstreams >= API_STREAMS_MAX) {
		*why = "this node serves " STR(API_STREAMS_MAX) " streams at once, and has that many open";
		return GRPC_RESOURCE_EXHAUSTED;
	}
	if (m == &api_methods[API_LOGS] && a->nlogs >= API_LOG_STREAMS_MAX) {
		*why = "this node serves " STR(API_LOG_STREAMS_MAX) " log reads at once, and has that many open";
		return GRPC_RESOURCE_EXHAUSTED;
	}
	return GRPC_OK;
}

static void on_ipc_msg(void *arg, const struct ipc_msg *m)
{
	struct api *a = arg;
	struct apicall *c;

	if (m->type == IPC_REQUEST) {
		enum pki_role role;
		const char *why = NULL;
		int code;

		if (m->len < 1 || m->data[0] >= API_NMETHODS || call_find(a, m->call)) {
			log_warnx("API: apid sent a request that does not check out: killing it");
			kill(a->apid, SIGKILL);
			return;
		}
		code = admit(a, &api_methods[m->data[0]], m->aux, &role, &why);
		if (code < 0) {
			log_warnx("API: apid handed over a %s call its table forbids (%s): killing it",
				  api_methods[m->data[0]].name, why);
			kill(a->apid, SIGKILL);
			return;
		}
		if (code != GRPC_OK) {
			ipc_send(a->ipc, IPC_FINISH, m->call, (uint32_t)code, why, strlen(why));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			ipc_send(a->ipc, IPC_FINISH, m->call, GRPC_RESOURCE_EXHAUSTED, "out of memory", 13);
			return;
		}
		c->a = a;
		c->id = m->call;
		c->maintenance = (m->aux & IPC_REQ_MAINTENANCE) != 0;
		c->req = m->data + 1;
		c->reqlen = m->len - 1;
		c->next = a->calls;
		if (a->calls)
			a->calls->prev = c;
		a->calls = c;
		c->method = m->data[0];
		a->ncalls++;
		a->nstreams += api_methods[c->method].stream;
		a->nlogs += c->method == API_LOGS;
		a->dispatching = c;
		api_rpc_dispatch(a, c, (enum api_method_id)m->data[0], role);
		a->dispatching = NULL;  /* c may be gone: its handler can finish it at once */
		return;
	}
	if (m->type == IPC_READY) {
		if (a->ready_msg[0]) {
			/* What to type to configure the machine must reach its screen. */
			if (m->aux)
				log_console("%s", a->ready_msg);
			else
				log_info("%s", a->ready_msg);
		}
		a->ready_msg[0] = '\0';
		return;
	}
	c = call_find(a, m->call);
	if (!c)
		return;  /* finished here meanwhile */
	if (m->type == IPC_CANCEL) {
		call_cancel(c);
	} else if (m->type == IPC_ACK) {
		c->unacked -= m->aux < c->unacked ? m->aux : c->unacked;
		if (c->want_writable && c->unacked <= HIGH_WATER / 2) {
			c->want_writable = false;
			if (c->writable_fn)
				c->writable_fn(c->writable_arg, c);
		}
	}
}

static void start_apid(struct api *a)
{
	struct ipc_opts io = { .loop = a->o.loop, .core = true, .on_msg = on_ipc_msg, .on_fail = on_ipc_fail,
			       .arg = a };
	char self[256], fdarg[8] = "3", err[256];
	char *argv[] = { self, "apid", "--ipc-fd", fdarg, "--listen", a->listen, "--trustd-listen",
			 a->trustd_listen, NULL };
	struct spawn_opts so = { 0 };
	int sv[2], r;
	pid_t pid;

	snprintf(self, sizeof(self), "%s", a->o.self ? a->o.self : "/proc/self/exe");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("API: socketpair for apid");
		restart_later(a);
		return;
	}
	/* spawn: a clean signal mask, stdio and the link as fd 3, and nothing else of ours. */
	so.argv = argv;
	so.envp = environ;
	so.stdin_fd = -1;
	so.stdout_fd = 1;
	so.stderr_fd = 2;
	so.keep = &sv[1];
	so.nkeep = 1;
	r = spawn(&so, &pid, err, sizeof(err));
	close(sv[1]);
	if (r < 0) {
		log_warnx("API: start apid: %s", err);
		close(sv[0]);
		restart_later(a);
		return;
	}
	a->apid = pid;
	a->apid_starts++;
	io.fd = sv[0];
	a->apid_started_ms = mono_ms();
	if (ipc_new(&io, &a->ipc) < 0) {
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		a->apid = 0;
		restart_later(a);
		return;
	}
	if (a->apid_starts > 1)
		log_info("API: apid started again (pid %d, start %u)", (int)pid, a->apid_starts);
	send_setup(a, false);  /* a new apid has no old connections */
	send_policy(a);
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

	char *wipe[4];

	for (size_t i = 0; i < a->nwipe; i++)
		wipe[i] = a->wipe[i];
	if (initctrl_power(a->o.init, a->power_action, wipe, a->nwipe, on_power_reply, a) < 0)
		log_warnx("cannot reach init to %s", a->power_action == BASALT__INIT__POWER_ACTION__POWER_REBOOT
							 ? "reboot" : "power off");
}

void api_schedule_power(struct api *a, int action)
{
	/* A Reset's wipe still pending (its reply promised it) stays: only the action changes. */
	a->power_action = action;
	loop_timer_arm(a->o.loop, &a->power, 500);
}

void api_schedule_reset(struct api *a, int action, char *const *wipe, size_t nwipe)
{
	a->nwipe = 0;
	for (size_t i = 0; i < nwipe && i < 4; i++)
		snprintf(a->wipe[a->nwipe++], sizeof(a->wipe[0]), "%s", wipe[i]);
	a->power_action = action;
	/* Time for the reply to reach the client before services stop. */
	loop_timer_arm(a->o.loop, &a->power, 500);
}

/* --- lifetime --- */

static void *cert_state(const struct ctrl_env *env)
{
	return env->api;
}

static int cert_start(void *state, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct api *a = state;

	(void)env;
	a->cert_ctrl = self;
	return 0;
}

/* Its state is ctrl_env.api, readied by api_init. */
const struct ctrl_def ctrl_api_certificate = {
	.rt = { "ApiCertController", cert_in, 3, cert_out, 1, cert_reconcile, NULL },
	.shared = cert_state,
	.init = cert_start,
	.touches_machine = true,
};

int api_init(struct api *a, const struct api_opts *o, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->o = *o;
	a->st = rt_store(o->rt);
	a->maintenance = true;
	buf_init(&a->setup);
	loop_timer_init(&a->restart, on_restart, a);
	loop_timer_init(&a->power, on_power, a);
	loop_timer_init(&a->renew, on_renew, a);
	snprintf(a->listen, sizeof(a->listen), "%s", o->listen ? o->listen : "0.0.0.0:50000");
	if (api_parse_hostport(a->listen, a->listen_addr, sizeof(a->listen_addr), &a->port, API_PORT) < 0 ||
	    a->port == 0) {
		snprintf(err, errlen, "--api-listen %s: expected ADDRESS:PORT", a->listen);
		return -EINVAL;
	}
	/* Certificate signing (control-plane nodes) on the same address, the next port (50001). */
	snprintf(a->trustd_listen, sizeof(a->trustd_listen), strchr(a->listen_addr, ':') ? "[%s]:%u" : "%s:%u",
		 a->listen_addr, (unsigned)a->port + 1);
	return 0;
}

void api_run(struct api *a)
{
	start_apid(a);
}

void api_stop(struct api *a)
{
	loop_timer_cancel(a->o.loop, &a->restart);
	loop_timer_cancel(a->o.loop, &a->power);
	loop_timer_cancel(a->o.loop, &a->renew);
	if (a->fetch_cl)
		grpc_client_free(a->fetch_cl);
	buf_fini(&a->fetch_resp);
	free(a->fetch_ca);
	free(a->fetched_crt);
	if (a->apid > 0) {
		kill(a->apid, SIGTERM);
		waitpid(a->apid, NULL, 0);
	}
	ipc_free(a->ipc);
	a->ipc = NULL;
	while (a->calls) {
		struct apicall *c = a->calls;

		call_cancel(c);
		if (a->calls == c) {
			call_unlink(a, c);
			free(c);
		}
	}
	pki_free_secret(a->key_pem);
	free(a->crt_pem);
	buf_fini_secret(&a->setup);
}

/* SPDX-License-Identifier: MIT */
/* basalt.security.SecurityService: Certificate, on the signing port (50001). */
#include <mbedtls/constant_time.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "api/machine.pb-c.h"
#include "api/runtime.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/linediff.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/pbyaml.h"
#include "machined/api/api.h"
#include "machined/api/rpc.h"
#include "lib/grpc.h"
#include "machined/ctrl/initclient.h"
#include "machined/api/kmsg.h"
#include "machined/core/resfmt.h"

/* --- Certificate (port 50001): a worker's API server certificate, for the machine token --- */

/* The token, compared in constant time (its length is no secret: tokens have one format). */
static bool same_secret(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && mbedtls_ct_memcmp(a, b, n) == 0;
}

/* A name a certificate may carry: an IP address or a DNS name. */
static bool san_ok(const char *s)
{
	return parse_ip(s, NULL) || valid_hostname(s);
}

/* An address as 16 bytes, IPv4 as its v4-mapped form, so "10.0.0.3" and "::ffff:10.0.0.3" are one. */
static bool ip16(const char *s, uint8_t out[16])
{
	struct ipaddr ip;

	if (!parse_ip(s, &ip))
		return false;
	if (ip.family == AF_INET6) {
		memcpy(out, ip.addr, 16);
	} else {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, ip.addr, 4);
	}
	return true;
}

/*
 * Whether a token holder may have this address in its certificate: the address its request
 * came from, or a loopback one (which reaches only the dialler's own host). Any other
 * address could be another node's, so a token alone never buys it.
 */
static bool ip_is_callers(const char *name, const char *peer)
{
	static const uint8_t v4pfx[12] = { [10] = 0xff, [11] = 0xff }, lo6[16] = { [15] = 1 };
	uint8_t a[16], p[16];

	if (!ip16(name, a))
		return false;
	if ((!memcmp(a, v4pfx, 12) && a[12] == 127) || !memcmp(a, lo6, 16))
		return true;
	return peer && ip16(peer, p) && !memcmp(a, p, 16);
}

/*
 * Whether a DNS name is one clients use to reach this control plane: a name this node's own
 * API certificate carries (its hostname, FQDN, certSANs) or the host of
 * cluster.controlPlane.endpoint. A token holder with a certificate for one of them could
 * pass for the control plane to a client that checks names; localhost reaches only the
 * dialler's own host and stays allowed.
 */
static bool name_is_control_planes(const struct api *a, const Basalt__Config__Config *cfg, const char *name)
{
	const char *one[1] = { name };
	struct url u;

	if (strcasecmp(name, "localhost") == 0)
		return false;
	if (a->crt_pem && pki_cert_covers(a->crt_pem, one, 1))
		return true;
	return cfg->cluster && cfg->cluster->controlplane && cfg->cluster->controlplane->endpoint &&
	       parse_url(cfg->cluster->controlplane->endpoint, &u) && strcasecmp(u.host, name) == 0;
}

void rpc_certificate(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Security__CertificateRequest *req = DECODE(c, Basalt__Security__CertificateRequest,
							   basalt__security__certificate_request__descriptor);
	Basalt__Security__CertificateResponse resp = BASALT__SECURITY__CERTIFICATE_RESPONSE__INIT;
	const Basalt__Config__Config *cfg = a->o.config->cfg;
	const Basalt__Config__Machine *mc = cfg ? cfg->machine : NULL;
	struct pki_subject sub = { .days = a->o.signed_lifetime_s ? 0 : API_WORKER_CERT_DAYS,
				   .seconds = a->o.signed_lifetime_s, .server = true };
	char *ca_crt = NULL, *ca_key = NULL, *crt = NULL, err[256];

	(void)role;
	if (!req)
		return;
	if (!mc || !mc->type || strcmp(mc->type, "controlplane") != 0 || !mc->ca || !mc->ca->key || !mc->token) {
		apicall_finish(c, GRPC_FAILED_PRECONDITION, "this node signs no certificates: it is not a "
			       "control-plane node holding the OS CA key");
		goto out;
	}
	if (!req->token || !same_secret(req->token, mc->token)) {
		log_warnx("certificate request from %s: wrong machine token", req->peer ? req->peer : "?");
		apicall_finish(c, GRPC_PERMISSION_DENIED, "wrong machine token");
		goto out;
	}
	for (size_t i = 0; i < req->n_names && sub.nsans < PKI_MAX_SANS - 1; i++) {
		size_t len = strlen(req->names[i]);

		/* DNS names compare without case and a final dot: "CP1." is "cp1". */
		if (!parse_ip(req->names[i], NULL)) {
			for (char *p = req->names[i]; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (len > 1 && req->names[i][len - 1] == '.')
				req->names[i][len - 1] = '\0';
		}
		if (!san_ok(req->names[i])) {
			snprintf(err, sizeof(err), "names: \"%.64s\" is neither an IP address nor a DNS name",
				 req->names[i]);
			apicall_finish(c, GRPC_INVALID_ARGUMENT, err);
			goto out;
		}
		if (parse_ip(req->names[i], NULL) && !ip_is_callers(req->names[i], req->peer)) {
			log_warnx("certificate request from %s: %.64s left out: not the address the request came from",
				  req->peer ? req->peer : "?", req->names[i]);
			continue;
		}
		if (!parse_ip(req->names[i], NULL) && name_is_control_planes(a, cfg, req->names[i])) {
			log_warnx("certificate request from %s: %.64s left out: a name of the control plane",
				  req->peer ? req->peer : "?", req->names[i]);
			continue;
		}
		sub.sans[sub.nsans++] = req->names[i];
	}
	if (req->peer && *req->peer && san_ok(req->peer))
		sub.sans[sub.nsans++] = req->peer;
	if (sub.nsans == 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, "names: none to sign");
		goto out;
	}
	/* The subject: the caller's own name (a DNS name other than localhost) if it gave one. */
	sub.cn = sub.sans[0];
	for (size_t i = 0; i < sub.nsans; i++) {
		if (strcmp(sub.sans[i], "localhost") != 0 && !parse_ip(sub.sans[i], NULL)) {
			sub.cn = sub.sans[i];
			break;
		}
	}
	ca_crt = pki_b64_decode(mc->ca->crt);
	ca_key = pki_b64_decode(mc->ca->key);
	if (!ca_crt || !ca_key || !req->csr ||
	    pki_issue_csr(&sub, req->csr, strlen(req->csr), ca_crt, ca_key, &crt, err, sizeof(err)) < 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, ca_crt && ca_key ? err : "out of memory");
		goto out;
	}
	log_info("certificate issued to %s (%s, %zu names, %u days %u s)", req->peer ? req->peer : "?", sub.cn,
		 sub.nsans, sub.days, sub.seconds);
	resp.ca = ca_crt;
	resp.crt = crt;
	api_reply(c, &resp.base);
out:
	free(crt);
	free(ca_crt);
	pki_free_secret(ca_key);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}


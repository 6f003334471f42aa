/* SPDX-License-Identifier: MIT */
/*
 * Hostile clients for the machine API. Each mode prints TAP lines.
 *   abuse conns N ENDPOINT CA CRT KEY        N mutual-TLS connections at once, a call on each
 *   abuse slowloris N ENDPOINT SECONDS       N sockets dribbling a handshake byte by byte
 *   abuse garbage N ENDPOINT                 N sockets sending junk instead of TLS
 *   abuse bigframe ENDPOINT CA CRT KEY       an HTTP/2 frame far over the size limit
 *   abuse oversized ENDPOINT CA CRT KEY      a 5 MiB request message
 *   abuse streams ENDPOINT CA CRT KEY       HTTP/2 by hand: 101 calls opened at once on one
 *                                            connection, none sending its request
 *   abuse evict N ENDPOINT CA CRT KEY      N idle connections (the cap), then two more that
 *                                            stall in their handshakes: who makes room
 *   abuse inject PID FD [KIND]               sends a datagram on process PID's socket FD (taken
 *                                            with pidfd_getfd), as if PID sent it: malformed
 *                                            (junk), or a request apid's table forbids (see
 *                                            mode_inject)
 *   abuse noread ENDPOINT CA CRT KEY SVC SECS  follows a noisy log, stops reading for SECS,
 *                                            then expects the stream ended RESOURCE_EXHAUSTED
 *   abuse follow N KIND SECS ENDPOINT CA CRT KEY  N following Logs (of machined) or Dmesg
 *                                            calls (KIND logs, dmesg or both: N of each),
 *                                            held open SECS seconds ("# holding" once all
 *                                            are served or refused); prints
 *                                            "# result open=X exhausted=Y other=Z"
 *   abuse csr ENDPOINT CA TOKEN [CPNAME]    the signing port of a control-plane node: a wrong
 *                                            token, an API method there, then the right token:
 *                                            a server certificate with no role (and without
 *                                            CPNAME, a name of the control plane, if asked)
 *   abuse maintrace N ENDPOINT DIR K         a node in maintenance mode, no identity: N
 *                                            ApplyConfiguration calls (two dry runs to one
 *                                            apply) pipelined over 8 connections, with the K
 *                                            configs DIR/config-I.yaml; no reply may carry a
 *                                            line of another config's DIR/secrets-I, and
 *                                            exactly one apply may land
 *   abuse kinds N BYTES ENDPOINT CA CRT KEY N Watch calls, one after another, on made-up types
 *                                            and namespaces of BYTES bytes each: every one
 *                                            must end with an error, none served
 *   abuse bigreq SECS ENDPOINT CA CRT KEY    16 Watch calls (a client's cap) whose requests
 *                                            carry 3 MiB of unknown fields each, held open
 *                                            SECS seconds ("# holding" once all are served)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/oid.h>

#include "api/machine.pb-c.h"
#include "api/resource.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/atomicfile.h"
#include "lib/grpc_client.h"
#include "lib/pki.h"
#include "lib/rng.h"
#include "lib/tls.h"
#include "machined/api/apiipc.h"

static struct loop *loop;
static char host[64];
static uint16_t port;
static int fails;

static void ok(bool c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool c, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", c ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	fails += !c;
}

static void parse_ep(const char *ep)
{
	const char *c = strrchr(ep, ':');

	snprintf(host, sizeof(host), "%.*s", (int)(c - ep), ep);
	port = (uint16_t)atoi(c + 1);
}

static char *slurp(const char *path)
{
	char *t = NULL;
	size_t n;

	if (read_file(path, 65536, &t, &n) < 0) {
		fprintf(stderr, "abuse: cannot read %s\n", path);
		exit(2);
	}
	return t;
}

static struct tls_config *client_tls(const char *ca, const char *crt, const char *key)
{
	char *a = slurp(ca), *c = slurp(crt), *k = slurp(key), err[256];
	struct tls_opts o = { .ca_pem = a, .cert_pem = c, .key_pem = k };
	struct tls_config *t = NULL;

	if (tls_config_new(&o, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "abuse: %s\n", err);
		exit(2);
	}
	free(a);
	free(c);
	free(k);
	return t;
}

static int tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Whether the server closed s within ms (reads and discards what it sends). */
static bool closed_within(int s, int ms)
{
	struct timespec t0, t1;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		long el;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= ms)
			return false;
		r = poll(&p, 1, (int)(ms - el));
		if (r <= 0)
			continue;
		r = (int)recv(s, buf, sizeof(buf), 0);
		if (r <= 0)
			return true;
	}
}

/* --- a call, run to its end --- */

struct res {
	bool done;
	int code;
	char msg[256];
	size_t msgs;
};

static int on_msg(void *arg, const uint8_t *m, size_t n)
{
	(void)m;
	(void)n;
	((struct res *)arg)->msgs++;
	return 0;
}

static void on_done(void *arg, int code, const char *msg)
{
	struct res *r = arg;

	r->done = true;
	r->code = code;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static struct grpc_client *dial(struct tls_config *t)
{
	struct grpc_client_opts o = { .loop = loop, .host = host, .port = port, .numeric_only = true,
				      .tls = t, .connect_timeout_ms = 30000 };
	struct grpc_client *c = NULL;
	char err[256];

	if (grpc_client_new(&o, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "abuse: %s\n", err);
		exit(2);
	}
	return c;
}

static const char *VERSION = "/basalt.machine.MachineService/Version";

static int mode_conns(int n, struct tls_config *t)
{
	struct grpc_client **cl = calloc((size_t)n, sizeof(*cl));
	struct res *r = calloc((size_t)n, sizeof(*r));
	time_t end = time(NULL) + 120;
	int done = 0, good = 0;

	/* Ramped in batches (this one process does every client handshake), all kept open. */
	for (int i = 0; i < n && time(NULL) < end;) {
		int batch = i + 50 < n ? i + 50 : n;

		for (int k = i; k < batch; k++) {
			cl[k] = dial(t);
			grpc_client_call(cl[k], VERSION, NULL, 0, "", 0, 60000, on_msg, on_done, &r[k], NULL);
		}
		for (;;) {
			done = 0;
			for (int k = i; k < batch; k++)
				done += r[k].done;
			if (done == batch - i || time(NULL) >= end)
				break;
			loop_run_once(loop, 100);
		}
		i = batch;
	}
	done = n;
	for (int i = 0; i < n; i++)
		good += r[i].done && r[i].code == GRPC_OK && r[i].msgs == 1;
	ok(good == n, "%d concurrent connections: %d calls answered OK", n, good);
	if (good != n)
		for (int i = 0; i < n; i++)
			if (!r[i].done || r[i].code != GRPC_OK) {
				printf("#   first failure: %s %s\n", grpc_code_name(r[i].code), r[i].msg);
				break;
			}
	/* While they are all open, a new client is served. */
	{
		struct grpc_client *extra = dial(t);
		struct res x = { 0 };

		grpc_client_call(extra, VERSION, NULL, 0, "", 0, 30000, on_msg, on_done, &x, NULL);
		while (!x.done)
			loop_run_once(loop, 100);
		ok(x.code == GRPC_OK, "with %d connections open, one more client is served (%s)", n,
		   grpc_code_name(x.code));
		grpc_client_free(extra);
	}
	printf("# holding the connections open for the caller to measure\n");
	fflush(stdout);
	sleep(2);
	for (int i = 0; i < n; i++)
		grpc_client_free(cl[i]);
	free(cl);
	free(r);
	return 0;
}

static int mode_slowloris(int n, int secs)
{
	int *s = calloc((size_t)n, sizeof(*s)), open_at_end = 0, made = 0;
	/* A TLS record header for a handshake, then the start of a ClientHello, forever. */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
	time_t start = time(NULL);

	for (int i = 0; i < n; i++)
		made += (s[i] = tcp()) >= 0;
	for (size_t k = 0; time(NULL) - start < secs; k++) {
		for (int i = 0; i < n; i++)
			if (s[i] >= 0 && send(s[i], &hello[k % sizeof(hello)], 1, MSG_NOSIGNAL) < 0) {
				close(s[i]);
				s[i] = -1;
			}
		usleep(500000);
	}
	for (int i = 0; i < n; i++)
		if (s[i] >= 0) {
			open_at_end += !closed_within(s[i], 100);
			close(s[i]);
		}
	ok(made == n, "slowloris: %d sockets connected", made);
	ok(open_at_end == 0, "slowloris: the server closed all %d after its handshake deadline (%d still open after %d s)",
	   n, open_at_end, secs);
	free(s);
	return 0;
}

static int mode_garbage(int n)
{
	uint8_t junk[65536];
	int closed = 0;

	rng_random(rng_ctx(), junk, sizeof(junk));
	for (int i = 0; i < n; i++) {
		int s = tcp();

		if (s < 0)
			continue;
		if (i % 2)
			memcpy(junk, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);  /* plain HTTP at a TLS port */
		send(s, junk, i % 2 ? 27 : sizeof(junk), MSG_NOSIGNAL);
		closed += closed_within(s, 3000);
		close(s);
	}
	ok(closed == n, "garbage before the TLS handshake: %d of %d connections closed by the server", closed, n);
	return 0;
}

/*
 * TLS by hand on a new connection, for the modes that then speak HTTP/2 themselves: reads
 * wait at most rcv_ms (0: block). Returns the connection with *sock set, or NULL with why.
 */
static struct tls_conn *tls_dial(struct tls_config *t, int *sock, int rcv_ms, char *why, size_t whylen)
{
	struct tls_conn *c = NULL;
	int s = tcp(), r;

	*sock = s;
	if (s < 0 || tls_conn_new(t, s, host, 0, &c) < 0) {
		snprintf(why, whylen, "connect");
		return NULL;
	}
	if (rcv_ms) {
		struct timeval tv = { .tv_sec = rcv_ms / 1000, .tv_usec = rcv_ms % 1000 * 1000 };

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	while ((r = tls_handshake(c)) == -EAGAIN)
		;
	if (r < 0) {
		snprintf(why, whylen, "handshake: %s", tls_error(c));
		tls_conn_free(c);
		return NULL;
	}
	return c;
}

/* TLS by hand, then an HTTP/2 frame header announcing 16 MiB - 1 of DATA. */
static int mode_bigframe(struct tls_config *t)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint8_t settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	uint8_t big[9 + 1024] = { 0xff, 0xff, 0xff, 0x0, 0x0, 0, 0, 0, 1 };
	char why[300];
	int s;
	struct tls_conn *c = tls_dial(t, &s, 200, why, sizeof(why));
	bool closed = false;

	if (!c) {
		ok(false, "bigframe: %s", why);
		return 0;
	}
	tls_write(c, preface, sizeof(preface) - 1);
	tls_write(c, settings, sizeof(settings));
	tls_write(c, big, sizeof(big));
	for (int i = 0; i < 50 && !closed; i++) {
		uint8_t buf[4096];
		ssize_t n = tls_read(c, buf, sizeof(buf));

		if (n == 0 || (n < 0 && n != -EAGAIN))
			closed = true;
		else if (n == -EAGAIN)
			usleep(100000);
	}
	ok(closed, "a frame over the size limit ends the connection");
	tls_conn_free(c);
	close(s);
	return 0;
}

static int mode_oversized(struct tls_config *t)
{
	struct grpc_client *c = dial(t);
	size_t n = 5u << 20;
	char *big = calloc(1, n);
	struct res r = { 0 }, v = { 0 };

	grpc_client_call(c, VERSION, NULL, 0, big, n, 30000, on_msg, on_done, &r, NULL);
	while (!r.done)
		loop_run_once(loop, 100);
	ok(r.code == GRPC_RESOURCE_EXHAUSTED, "a 5 MiB request: %s (%s)", grpc_code_name(r.code), r.msg);
	grpc_client_call(c, VERSION, NULL, 0, "", 0, 30000, on_msg, on_done, &v, NULL);
	while (!v.done)
		loop_run_once(loop, 100);
	ok(v.code == GRPC_OK, "the same connection serves the next call");
	grpc_client_free(c);
	free(big);
	return 0;
}

/* Starts following a service's log, takes the first message, then never reads again. */
static int mode_noread(struct tls_config *t, const char *svc, int secs)
{
	Basalt__Machine__LogsRequest req = BASALT__MACHINE__LOGS_REQUEST__INIT;
	struct grpc_client *c = dial(t);
	uint8_t buf[256];
	struct res r = { 0 };
	size_t n;

	req.id = (char *)svc;
	req.follow = true;
	n = protobuf_c_message_pack(&req.base, buf);
	grpc_client_call(c, "/basalt.machine.MachineService/Logs", NULL, 0, buf, n, 0, on_msg, on_done, &r, NULL);
	for (time_t end = time(NULL) + 30; !r.done && r.msgs == 0 && time(NULL) < end;)
		loop_run_once(loop, 100);
	ok(r.msgs > 0, "noread: following %s's log (%zu messages read)", svc, r.msgs);
	printf("# no longer reading for %d s\n", secs);
	fflush(stdout);
	sleep((unsigned)secs);
	/* Reading again drains what was held; the server must have ended the stream. */
	for (time_t end = time(NULL) + 30; !r.done && time(NULL) < end;)
		loop_run_once(loop, 100);
	ok(r.done && r.code == GRPC_RESOURCE_EXHAUSTED && strstr(r.msg, "not reading"),
	   "noread: the stream of a client that stopped reading ends with RESOURCE_EXHAUSTED (%s: %s)",
	   r.done ? grpc_code_name(r.code) : "still open", r.msg);
	grpc_client_free(c);
	return 0;
}

/* --- the signing port: the token decides, and what it signs is a server, never a role --- */

struct csr_res {
	struct res r;
	struct buf b;
};

static int csr_msg(void *arg, const uint8_t *m, size_t n)
{
	return buf_append(&((struct csr_res *)arg)->b, m, n) < 0 ? -1 : 0;
}

static void csr_done(void *arg, int code, const char *msg)
{
	on_done(&((struct csr_res *)arg)->r, code, msg);
}

/* A name of the control plane to ask for (its hostname, say), or NULL. */
static const char *csr_cp_name;

static struct csr_res *csr_call(struct grpc_client *c, const char *method, const char *csr, const char *token)
{
	Basalt__Security__CertificateRequest req = BASALT__SECURITY__CERTIFICATE_REQUEST__INIT;
	struct csr_res *x = calloc(1, sizeof(*x));
	char *names[] = { "node-x", "10.9.9.9", "::1", (char *)csr_cp_name };
	uint8_t buf[8192];
	size_t n;

	req.csr = (char *)csr;
	req.token = (char *)token;
	req.names = names;
	req.n_names = csr_cp_name ? 4 : 3;
	req.peer = "203.0.113.7";  /* the node must replace it with the real source */
	n = protobuf_c_message_pack(&req.base, buf);
	buf_init(&x->b);
	grpc_client_call(c, method, NULL, 0, buf, n, 30000, csr_msg, csr_done, x, NULL);
	while (!x->r.done)
		loop_run_once(loop, 100);
	return x;
}

static void csr_free(struct csr_res *x)
{
	buf_fini(&x->b);
	free(x);
}

static int mode_csr(const char *ca, const char *token)
{
	char *ca_pem = slurp(ca), *key = NULL, *csr = NULL, err[256], wrong[80];
	struct tls_opts o = { .server = false, .ca_pem = ca_pem };
	struct tls_config *t = NULL;
	struct grpc_client *c;
	struct csr_res *x;
	mbedtls_x509_crt crt;

	if (tls_config_new(&o, &t, err, sizeof(err)) < 0 || pki_gen_key(&key, err, sizeof(err)) < 0 ||
	    pki_csr_new(key, "node-x", &csr, err, sizeof(err)) < 0) {
		fprintf(stderr, "abuse: %s\n", err);
		return 2;
	}
	c = dial(t);
	snprintf(wrong, sizeof(wrong), "%sx", token);
	x = csr_call(c, "/basalt.security.SecurityService/Certificate", csr, wrong);
	ok(x->r.code == GRPC_PERMISSION_DENIED && x->b.len == 0, "csr: a wrong machine token is refused, nothing signed (%s: %s)",
	   grpc_code_name(x->r.code), x->r.msg);
	csr_free(x);
	x = csr_call(c, VERSION, csr, token);
	ok(x->r.code == GRPC_UNIMPLEMENTED, "csr: the signing port serves no API method (%s: %s)",
	   grpc_code_name(x->r.code), x->r.msg);
	csr_free(x);
	x = csr_call(c, "/basalt.security.SecurityService/Certificate", csr, token);
	{
		Basalt__Security__CertificateResponse *r =
			basalt__security__certificate_response__unpack(NULL, x->b.len, buf_head(&x->b));
		bool parsed = false, server_only = false, no_role = false, names_ok = false;

		mbedtls_x509_crt_init(&crt);
		if (r && r->crt && mbedtls_x509_crt_parse(&crt, (const unsigned char *)r->crt, strlen(r->crt) + 1) == 0) {
			parsed = true;
			server_only = mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_SERVER_AUTH,
										 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) == 0 &&
				      mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_CLIENT_AUTH,
										 MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0;
			no_role = pki_cert_role(&crt) == ROLE_NONE && !pki_cert_has_org(&crt, PKI_ROLE_IMPERSONATOR);
			names_ok = pki_crt_names(&crt, "node-x") && !pki_crt_names(&crt, "10.9.9.9") &&
				   !pki_crt_names(&crt, "203.0.113.7") && pki_crt_names(&crt, "127.0.0.1") &&
				   pki_crt_names(&crt, "::1");
		}
		ok(x->r.code == GRPC_OK && parsed && server_only && no_role,
		   "csr: the right token gets a server certificate (serverAuth only, no role, not an impersonator)"
		   " (%s%s%s)", grpc_code_name(x->r.code), x->r.msg[0] ? ": " : "", x->r.msg);
		ok(names_ok, "csr: it names the hostname and loopback asked for and the real source address, never another "
		   "address asked for (10.9.9.9: it could be another node's) nor the claimed source");
		if (csr_cp_name) {
			/* Asked as given (any case, a final dot); it must be absent in every spelling. */
			char low[256];
			size_t k = 0;

			for (; csr_cp_name[k] && k < sizeof(low) - 1; k++)
				low[k] = (char)tolower((unsigned char)csr_cp_name[k]);
			low[k] = '\0';
			if (k && low[k - 1] == '.')
				low[k - 1] = '\0';
			ok(parsed && !pki_crt_names(&crt, low) && !pki_crt_names(&crt, csr_cp_name) && pki_crt_names(&crt, "node-x"),
			   "csr: a name of the control plane asked for (%s) is left out, the caller's own kept", csr_cp_name);
		}
		mbedtls_x509_crt_free(&crt);
		if (r)
			basalt__security__certificate_response__free_unpacked(r, NULL);
	}
	csr_free(x);
	/* A token guesser from one address: a burst of 10 requests, then one every 6 s. */
	{
		int limited = 0;
		char why[256] = "";

		for (int i = 0; i < 14 && !limited; i++) {
			x = csr_call(c, "/basalt.security.SecurityService/Certificate", csr, wrong);
			if (x->r.code == GRPC_RESOURCE_EXHAUSTED) {
				limited = i + 1;
				snprintf(why, sizeof(why), "%s", x->r.msg);
			}
			csr_free(x);
		}
		ok(limited > 0 && strstr(why, "too many certificate requests from this address"),
		   "csr: a source that keeps guessing tokens is slowed down (its %d%s request after these refused "
		   "RESOURCE_EXHAUSTED: %s)", limited, limited == 1 ? "st" : limited == 2 ? "nd" : limited == 3 ? "rd" : "th", why);
	}
	grpc_client_free(c);
	tls_config_free(t);
	pki_free_secret(key);
	free(csr);
	free(ca_pem);
	return 0;
}

/* --- following streams: how many a client gets, and what the rest get --- */

#define FOLLOW_PER_CONN 50

static int mode_follow(int n, const char *kind, int secs, struct tls_config *t)
{
	bool logs = strcmp(kind, "dmesg") != 0, dmesg = strcmp(kind, "logs") != 0;
	int total = n * (logs + dmesg), nconns = (total + FOLLOW_PER_CONN - 1) / FOLLOW_PER_CONN, k = 0;
	struct grpc_client **conns = calloc((size_t)nconns, sizeof(*conns));
	struct res *r = calloc((size_t)total, sizeof(*r));
	Basalt__Machine__LogsRequest lr = BASALT__MACHINE__LOGS_REQUEST__INIT;
	Basalt__Machine__DmesgRequest dr = BASALT__MACHINE__DMESG_REQUEST__INIT;
	uint8_t lbuf[64], dbuf[16];
	size_t ll, dl, open = 0, exhausted = 0, other = 0, settled;
	char first_other[256] = "";

	lr.id = "machined";
	lr.follow = true;
	dr.follow = true;
	ll = protobuf_c_message_pack(&lr.base, lbuf);
	dl = protobuf_c_message_pack(&dr.base, dbuf);
	for (int i = 0; i < nconns; i++)
		conns[i] = dial(t);
	for (int i = 0; i < n; i++) {
		if (logs) {
			grpc_client_call(conns[k / FOLLOW_PER_CONN], "/basalt.machine.MachineService/Logs", NULL, 0,
					 lbuf, ll, 0, on_msg, on_done, &r[k], NULL);
			k++;
		}
		if (dmesg) {
			grpc_client_call(conns[k / FOLLOW_PER_CONN], "/basalt.machine.MachineService/Dmesg", NULL, 0,
					 dbuf, dl, 0, on_msg, on_done, &r[k], NULL);
			k++;
		}
	}
	/* Settled: refused, or served (a first message came). */
	for (time_t end = time(NULL) + 60; time(NULL) < end;) {
		settled = 0;
		for (int i = 0; i < total; i++)
			settled += r[i].done || r[i].msgs > 0;
		if (settled == (size_t)total)
			break;
		loop_run_once(loop, 100);
	}
	printf("# holding\n");
	fflush(stdout);
	for (time_t end = time(NULL) + secs; time(NULL) < end;)
		loop_run_once(loop, 100);
	for (int i = 0; i < total; i++) {
		if (!r[i].done && r[i].msgs > 0) {
			open++;
		} else if (r[i].done && r[i].code == GRPC_RESOURCE_EXHAUSTED && strstr(r[i].msg, "open")) {
			exhausted++;
		} else {
			other++;
			if (!first_other[0])
				snprintf(first_other, sizeof(first_other), "%s: %s", r[i].done ? grpc_code_name(r[i].code) : "no message", r[i].msg);
		}
	}
	printf("# result open=%zu exhausted=%zu other=%zu\n", open, exhausted, other);
	ok(other == 0, "follow: each of %d %s -f calls was served for %d s or refused RESOURCE_EXHAUSTED, "
	   "saying why (%zu open, %zu refused, %zu otherwise%s%s)", total, kind, secs, open, exhausted, other,
	   other ? ": " : "", first_other);
	for (int i = 0; i < nconns; i++)
		grpc_client_free(conns[i]);
	free(conns);
	free(r);
	return 0;
}

/* --- maintenance mode: the first config wins, nobody reads it back --- */

#define RACE_CONNS 8
#define RACE_MAX_CFG 8

struct race_cfg {
	char *yaml;
	size_t len;
	char *secret[8];
	size_t nsecret;
};

static struct race_cfg race[RACE_MAX_CFG];
static size_t nrace;

struct race_call {
	size_t cfg;
	bool dry;
	bool done;
	int code;
	size_t leaks;               /* replies carrying another config's secret */
	char msg[256];
};

/* Whether p[0..n) holds a secret of a config other than own. */
static bool race_leaks(size_t own, const void *p, size_t n)
{
	for (size_t i = 0; i < nrace; i++)
		for (size_t j = 0; i != own && j < race[i].nsecret; j++)
			if (memmem(p, n, race[i].secret[j], strlen(race[i].secret[j])))
				return true;
	return false;
}

static int race_msg(void *arg, const uint8_t *m, size_t n)
{
	struct race_call *c = arg;

	c->leaks += race_leaks(c->cfg, m, n);
	return 0;
}

static void race_done(void *arg, int code, const char *msg)
{
	struct race_call *c = arg;

	c->done = true;
	c->code = code;
	snprintf(c->msg, sizeof(c->msg), "%s", msg ? msg : "");
	c->leaks += msg && race_leaks(c->cfg, msg, strlen(msg));
}

static int mode_maintrace(int n, const char *dir, int k)
{
	Basalt__Machine__ApplyConfigurationRequest req = BASALT__MACHINE__APPLY_CONFIGURATION_REQUEST__INIT;
	struct tls_opts o = { .server = false };  /* no certificate, no verification: maintenance */
	struct grpc_client *conns[RACE_CONNS];
	struct race_call *calls = calloc((size_t)n, sizeof(*calls));
	struct tls_config *t = NULL;
	size_t applied = 0, leaks = 0, done = 0, refused_after = 0, codes[17] = { 0 };
	char err[256], path[512];

	if (k < 2 || k > RACE_MAX_CFG || tls_config_new(&o, &t, err, sizeof(err)) < 0 || !calls) {
		fprintf(stderr, "abuse: maintrace: K is 2 to %d\n", RACE_MAX_CFG);
		return 2;
	}
	nrace = (size_t)k;
	for (size_t i = 0; i < nrace; i++) {
		char *sec, *line, *save = NULL;

		snprintf(path, sizeof(path), "%s/config-%zu.yaml", dir, i);
		race[i].yaml = slurp(path);
		race[i].len = strlen(race[i].yaml);
		snprintf(path, sizeof(path), "%s/secrets-%zu", dir, i);
		sec = slurp(path);
		for (line = strtok_r(sec, "\n", &save); line && race[i].nsecret < 8; line = strtok_r(NULL, "\n", &save))
			race[i].secret[race[i].nsecret++] = line;
	}
	for (int i = 0; i < RACE_CONNS; i++)
		conns[i] = dial(t);
	/* Every call queued before the loop runs: they go out back to back. */
	for (int i = 0; i < n; i++) {
		uint8_t *buf;
		size_t len;

		calls[i].cfg = (size_t)i % nrace;
		calls[i].dry = (i / RACE_CONNS) % 3 != 2;  /* on each connection: dry run, dry run, apply */
		req.data.data = (uint8_t *)race[calls[i].cfg].yaml;
		req.data.len = race[calls[i].cfg].len;
		req.dry_run = calls[i].dry;
		len = protobuf_c_message_get_packed_size(&req.base);
		buf = malloc(len);
		protobuf_c_message_pack(&req.base, buf);
		if (grpc_client_call(conns[i % RACE_CONNS], "/basalt.machine.MachineService/ApplyConfiguration",
				     NULL, 0, buf, len, 120000, race_msg, race_done, &calls[i], NULL) < 0) {
			calls[i].done = true;
			calls[i].code = GRPC_UNAVAILABLE;
		}
		free(buf);
	}
	for (time_t end = time(NULL) + 150; time(NULL) < end;) {
		done = 0;
		for (int i = 0; i < n; i++)
			done += calls[i].done;
		if (done == (size_t)n)
			break;
		loop_run_once(loop, 100);
	}
	for (int i = 0; i < n; i++) {
		leaks += calls[i].leaks;
		if (calls[i].done && calls[i].code >= 0 && calls[i].code <= 16)
			codes[calls[i].code]++;
		if (calls[i].done && !calls[i].dry && calls[i].code == GRPC_OK)
			applied++;
		if (calls[i].done && strstr(calls[i].msg, "maintenance mode is over"))
			refused_after++;
		if (calls[i].leaks)
			printf("# call %d (config %zu, %s): %s: a reply holds another config's secret\n", i,
			       calls[i].cfg, calls[i].dry ? "dry run" : "apply", grpc_code_name(calls[i].code));
	}
	printf("# %zu calls: OK %zu, FAILED_PRECONDITION %zu, UNAVAILABLE %zu, UNAUTHENTICATED %zu, "
	       "other %zu; %zu refused as after maintenance\n", done, codes[GRPC_OK],
	       codes[GRPC_FAILED_PRECONDITION], codes[GRPC_UNAVAILABLE], codes[GRPC_UNAUTHENTICATED],
	       done - codes[GRPC_OK] - codes[GRPC_FAILED_PRECONDITION] - codes[GRPC_UNAVAILABLE] -
		       codes[GRPC_UNAUTHENTICATED], refused_after);
	ok(done == (size_t)n, "maintrace: all %d pipelined calls ended (%zu did)", n, done);
	ok(leaks == 0, "maintrace: no reply to a caller without identity carries a secret of the config "
	   "another caller put in force (%zu did)", leaks);
	ok(applied == 1, "maintrace: exactly one apply landed (%zu did)", applied);
	for (int i = 0; i < RACE_CONNS; i++)
		grpc_client_free(conns[i]);
	tls_config_free(t);
	free(calls);
	return 0;
}

/* --- HTTP/2 by hand, for what a well-behaved client library would never do --- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void h2_frame(struct tls_conn *c, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24 & 0x7f), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };

	tls_write(c, h, sizeof(h));
	if (n)
		tls_write(c, p, n);
}

/* An HPACK literal header field without indexing, new name (no Huffman). */
static size_t hpack_lit(uint8_t *o, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), k = 0;

	o[k++] = 0;
	o[k++] = (uint8_t)nl;
	memcpy(o + k, name, nl);
	k += nl;
	o[k++] = (uint8_t)vl;
	memcpy(o + k, value, vl);
	return k + vl;
}

#define STREAMS 101

/*
 * Opens STREAMS calls on one connection, each with its headers but no request: the server
 * allows 100 at once (SETTINGS_MAX_CONCURRENT_STREAMS), so the 101st is refused; the other
 * 100 wait for requests that never come, and are reset once 10 s have passed.
 */
static int mode_streams(struct tls_config *t)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint8_t hb[512], in[65536 + 9];
	uint32_t rst_code[STREAMS];
	uint64_t rst_at[STREAMS], opened, max_streams = 0;
	char why[300];
	size_t hl = 0, have = 0;
	int s, early = 0, cancelled = 0, in_window = 0;
	struct tls_conn *c = tls_dial(t, &s, 100, why, sizeof(why));
	bool closed = false;

	if (!c) {
		ok(false, "streams: %s", why);
		return 0;
	}
	hl += hpack_lit(hb + hl, ":method", "POST");
	hl += hpack_lit(hb + hl, ":scheme", "https");
	hl += hpack_lit(hb + hl, ":path", VERSION);
	hl += hpack_lit(hb + hl, ":authority", host);
	hl += hpack_lit(hb + hl, "content-type", "application/grpc");
	hl += hpack_lit(hb + hl, "te", "trailers");
	tls_write(c, preface, sizeof(preface) - 1);
	h2_frame(c, 4, 0, 0, NULL, 0);
	memset(rst_code, 0xff, sizeof(rst_code));
	memset(rst_at, 0, sizeof(rst_at));
	opened = now_ms();
	for (int i = 0; i < STREAMS; i++)
		h2_frame(c, 1, 0x4 /* END_HEADERS */, (uint32_t)(2 * i + 1), hb, hl);
	while (!closed && now_ms() - opened < 14000) {
		ssize_t n = tls_read(c, in + have, sizeof(in) - have);

		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			closed = true;
			break;
		}
		if (n > 0)
			have += (size_t)n;
		while (have >= 9) {
			size_t len = (size_t)in[0] << 16 | (size_t)in[1] << 8 | in[2];
			uint8_t type = in[3], flags = in[4];
			uint32_t sid = ((uint32_t)in[5] << 24 | (uint32_t)in[6] << 16 | (uint32_t)in[7] << 8 | in[8]) & 0x7fffffff;

			if (have < 9 + len)
				break;
			if (type == 4 && !(flags & 1)) {  /* the server's SETTINGS: read, then ack */
				for (size_t k = 0; k + 6 <= len; k += 6)
					if ((in[9 + k] << 8 | in[10 + k]) == 3)
						max_streams = (uint64_t)in[11 + k] << 24 | (uint64_t)in[12 + k] << 16 |
							      (uint64_t)in[13 + k] << 8 | in[14 + k];
				h2_frame(c, 4, 1, 0, NULL, 0);
			} else if (type == 6 && !(flags & 1)) {  /* PING: answer it */
				h2_frame(c, 6, 1, 0, in + 9, len);
			} else if (type == 3 && len == 4 && sid % 2 == 1 && sid / 2 < STREAMS) {
				rst_code[sid / 2] = (uint32_t)in[9] << 24 | (uint32_t)in[10] << 16 | (uint32_t)in[11] << 8 | in[12];
				rst_at[sid / 2] = now_ms() - opened;
			}
			memmove(in, in + 9 + len, have - 9 - len);
			have -= 9 + len;
		}
	}
	for (int i = 0; i < STREAMS - 1; i++) {
		early += rst_code[i] != 0xffffffffu && rst_at[i] < 9000;
		cancelled += rst_code[i] == 8 /* CANCEL */;
		in_window += rst_code[i] == 8 && rst_at[i] >= 9500 && rst_at[i] <= 12500;
	}
	ok(max_streams == 100, "streams: the server allows %llu concurrent calls per connection",
	   (unsigned long long)max_streams);
	ok(early == 0 && (rst_code[STREAMS - 1] == 7 /* REFUSED_STREAM */ || rst_code[STREAMS - 1] == 1 /* PROTOCOL_ERROR */),
	   "streams: the 101st call at once is refused (RST_STREAM code %u), the first 100 are not (%d reset early)",
	   rst_code[STREAMS - 1], early);
	ok(cancelled == STREAMS - 1 && in_window == STREAMS - 1,
	   "streams: the 100 calls whose requests never came are reset (CANCEL) after 10 s (%d of %d, %d at 9.5-12.5 s; first at %llu ms)",
	   cancelled, STREAMS - 1, in_window, (unsigned long long)rst_at[0]);
	ok(!closed, "streams: the connection itself stays open");
	tls_conn_free(c);
	close(s);
	return 0;
}

/* Whether the server has closed s (its FIN or a reset), without blocking; data it sent
 * first and we never read does not hide the close. */
static bool peer_closed(int s)
{
	struct pollfd p = { .fd = s, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static bool closed_in(int s, int ms)
{
	for (uint64_t end = now_ms() + (uint64_t)ms; now_ms() < end; usleep(20000))
		if (peer_closed(s))
			return true;
	return false;
}

/* Waits up to ms for the server's first bytes (its SETTINGS): a TLS 1.3 server has taken
 * the session only then, since the client's side of the handshake ends first. */
static bool server_spoke(struct tls_conn *c, int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	uint8_t buf[256];

	for (uint64_t end = now_ms() + (uint64_t)ms; now_ms() < end;) {
		if (tls_pending(c) == 0 && poll(&p, 1, 50) <= 0)
			continue;
		if (tls_read(c, buf, sizeof(buf)) > 0)
			return true;
		if (peer_closed(s))
			return false;
	}
	return false;
}

/*
 * The connection cap and who makes room. Connections are opened one by one, each through
 * its TLS handshake and HTTP/2 preface (until the server answers) and then left idle (so the first is the longest
 * idle), until the server closes one: that must be the first, once about N are open
 * (others' connections count too). Then a socket that never starts its handshake must
 * evict the next longest idle; a second such socket the oldest still in its handshake.
 */
static int mode_evict(int n, struct tls_config *t)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static const uint8_t settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	int max = n + 16, *s = calloc((size_t)max, sizeof(*s)), made = 0, first = -1, h1, h2, open_after = 0;
	struct tls_conn **c = calloc((size_t)max, sizeof(*c));

	for (int i = 0; i < max && first < 0; i++) {
		char why[300];

		if (!(c[i] = tls_dial(t, &s[i], 0, why, sizeof(why)))) {
			if (s[i] >= 0)
				close(s[i]);
			break;
		}
		tls_write(c[i], preface, sizeof(preface) - 1);
		tls_write(c[i], settings, sizeof(settings));
		made++;
		server_spoke(c[i], s[i], 2000);
		usleep(1000);  /* distinct last-traffic times, in order */
		for (int k = 0; k < made && first < 0; k++)
			if (peer_closed(s[k]))
				first = k;
	}
	ok(first == 0 && made >= n - 8 && made <= n + 1,
	   "evict: at the cap the longest idle connection is closed for a new one (connection %d closed after %d made; cap %d)",
	   first, made, n);
	h1 = tcp();
	ok(h1 >= 0 && closed_in(s[1], 3000) && !peer_closed(s[2]),
	   "evict: a socket that never starts its handshake also evicts the longest idle");
	h2 = tcp();
	ok(h2 >= 0 && closed_in(h1, 3000) && !peer_closed(h2) && !peer_closed(s[2]),
	   "evict: the next one closes the oldest still in its handshake, not an idle one");
	usleep(200000);
	for (int i = 2; i < made; i++)
		open_after += !peer_closed(s[i]);
	ok(open_after == made - 2, "evict: the other %d idle connections stay open (%d)", made - 2, open_after);
	for (int i = 0; i < made; i++) {
		tls_conn_free(c[i]);
		close(s[i]);
	}
	close(h1);
	close(h2);
	free(c);
	free(s);
	return 0;
}

/* Borrows another process's socket (pidfd_getfd, root) and sends a datagram shorter than
 * any message header on it: to the peer it looks as if that process sent garbage. */
static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * What to write into apid's link: "junk" (4 bytes, malformed), or a well-formed request
 * that apid's table would never hand over: "reader-reboot" (a Reboot claimed for
 * os:reader), "maint-reboot" (a Reboot from a maintenance-mode connection), "trustd-version"
 * (Version as if it came in on the signing port).
 */
static int mode_inject(int pid, int fd, const char *kind)
{
	uint8_t d[IPC_HDR + 1] = { 0 };
	size_t n = sizeof(d);
	uint32_t aux;
	int method, pfd = (int)syscall(SYS_pidfd_open, pid, 0), s = -1;

	if (strcmp(kind, "junk") == 0) {
		memcpy(d, "junk", 4);
		n = 4;
	} else {
		if (strcmp(kind, "reader-reboot") == 0) {
			aux = ROLE_READER;
			method = API_REBOOT;
		} else if (strcmp(kind, "maint-reboot") == 0) {
			aux = IPC_REQ_MAINTENANCE;
			method = API_REBOOT;
		} else if (strcmp(kind, "trustd-version") == 0) {
			aux = IPC_REQ_TRUSTD;
			method = API_VERSION;
		} else {
			fprintf(stderr, "abuse: inject: no such kind %s\n", kind);
			return 2;
		}
		d[0] = IPC_REQUEST;
		be32(d + 4, 0x7fff0001u);  /* a call id apid never used */
		be32(d + 8, 1);             /* the whole message: the method index alone (an empty request) */
		be32(d + 12, aux);
		d[IPC_HDR] = (uint8_t)method;
	}
	if (pfd >= 0)
		s = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
	if (s < 0) {
		fprintf(stderr, "abuse: pidfd_getfd %d of pid %d: %s\n", fd, pid, strerror(errno));
		return 2;
	}
	if (send(s, d, n, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "abuse: send: %s\n", strerror(errno));
		return 2;
	}
	close(s);
	close(pfd);
	return 0;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
		n++;
	} while (v);
	return n;
}

/* Streams whose requests are big but valid: what the core must not keep for their lifetime. */
static int mode_bigreq(int secs, struct tls_config *t)
{
	enum { N = 16, PAD = 3 << 20 };
	struct grpc_client *cl = dial(t);
	struct res r[N];
	Basalt__Resource__WatchRequest w = BASALT__RESOURCE__WATCH_REQUEST__INIT;
	uint8_t *buf;
	size_t n;
	int served = 0;

	memset(r, 0, sizeof(r));
	w.type = "services";
	buf = malloc(protobuf_c_message_get_packed_size(&w.base) + 16 + PAD);
	if (!buf)
		return 2;
	n = protobuf_c_message_pack(&w.base, buf);
	/* Field 1000, length-delimited: protobuf-c keeps it as an unknown field. */
	n += put_varint(buf + n, (1000u << 3) | 2);
	n += put_varint(buf + n, PAD);
	memset(buf + n, 'x', PAD);
	n += PAD;
	for (int i = 0; i < N; i++)
		grpc_client_call(cl, "/basalt.resource.ResourceService/Watch", NULL, 0, buf, n, 0, on_msg, on_done,
				 &r[i], NULL);
	for (time_t end = time(NULL) + 60; time(NULL) < end && served < N;) {
		loop_run_once(loop, 100);
		served = 0;
		for (int i = 0; i < N; i++)
			served += r[i].msgs > 0 && !r[i].done;
	}
	printf("# holding\n");
	fflush(stdout);
	for (time_t end = time(NULL) + secs; time(NULL) < end;)
		loop_run_once(loop, 100);
	ok(served == N, "bigreq: %d of %d watches with 3 MiB requests are served", served, N);
	free(buf);
	return 0;
}

/* Made-up kinds on a read path: each Watch must end with an error, never be served. */
static int mode_kinds(int n, size_t bytes, struct tls_config *t)
{
	struct grpc_client *cl = dial(t);
	char *type = malloc(bytes + 16), *ns = malloc(bytes + 16), first[160] = "";
	int refused = 0;

	if (!type || !ns)
		return 2;
	memset(type, 'x', bytes);
	memset(ns, 'n', bytes);
	for (int i = 0; i < n; i++) {
		Basalt__Resource__WatchRequest w = BASALT__RESOURCE__WATCH_REQUEST__INIT;
		struct res r = { 0 };
		uint8_t *buf;
		size_t len;

		snprintf(type + bytes, 16, "%d", i);
		snprintf(ns + bytes, 16, "%d", i);
		w.type = type;
		w.namespace_ = ns;
		buf = malloc(protobuf_c_message_get_packed_size(&w.base));
		if (!buf)
			return 2;
		len = protobuf_c_message_pack(&w.base, buf);
		grpc_client_call(cl, "/basalt.resource.ResourceService/Watch", NULL, 0, buf, len, 5000, on_msg, on_done,
				 &r, NULL);
		free(buf);
		for (time_t end = time(NULL) + 10; time(NULL) < end && !r.done;)
			loop_run_once(loop, 100);
		if (r.done && r.code != GRPC_OK && r.msgs == 0)
			refused++;
		if (i == 0)
			snprintf(first, sizeof(first), "%s: %.100s", r.done ? grpc_code_name(r.code) : "no end", r.msg);
	}
	ok(refused == n, "kinds: %d of %d watches on made-up types of %zu bytes refused, none served (%s)", refused, n,
	   bytes, first);
	grpc_client_free(cl);
	free(type);
	free(ns);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 16384, 16384 };
	const char *mode = argc > 1 ? argv[1] : "";

	setrlimit(RLIMIT_NOFILE, &rl);
	if (loop_new(&loop) < 0)
		return 2;
	if (strcmp(mode, "conns") == 0 && argc == 7) {
		parse_ep(argv[3]);
		mode_conns(atoi(argv[2]), client_tls(argv[4], argv[5], argv[6]));
	} else if (strcmp(mode, "slowloris") == 0 && argc == 5) {
		parse_ep(argv[3]);
		mode_slowloris(atoi(argv[2]), atoi(argv[4]));
	} else if (strcmp(mode, "garbage") == 0 && argc == 4) {
		parse_ep(argv[3]);
		mode_garbage(atoi(argv[2]));
	} else if (strcmp(mode, "bigframe") == 0 && argc == 6) {
		parse_ep(argv[2]);
		mode_bigframe(client_tls(argv[3], argv[4], argv[5]));
	} else if (strcmp(mode, "oversized") == 0 && argc == 6) {
		parse_ep(argv[2]);
		mode_oversized(client_tls(argv[3], argv[4], argv[5]));
	} else if (strcmp(mode, "streams") == 0 && argc == 6) {
		parse_ep(argv[2]);
		mode_streams(client_tls(argv[3], argv[4], argv[5]));
	} else if (strcmp(mode, "evict") == 0 && argc == 7) {
		parse_ep(argv[3]);
		mode_evict(atoi(argv[2]), client_tls(argv[4], argv[5], argv[6]));
	} else if (strcmp(mode, "inject") == 0 && (argc == 4 || argc == 5)) {
		return mode_inject(atoi(argv[2]), atoi(argv[3]), argc == 5 ? argv[4] : "junk");
	} else if (strcmp(mode, "follow") == 0 && argc == 9) {
		parse_ep(argv[5]);
		mode_follow(atoi(argv[2]), argv[3], atoi(argv[4]), client_tls(argv[6], argv[7], argv[8]));
	} else if (strcmp(mode, "csr") == 0 && (argc == 5 || argc == 6)) {
		parse_ep(argv[2]);
		csr_cp_name = argc == 6 ? argv[5] : NULL;
		return mode_csr(argv[3], argv[4]) == 2 ? 2 : fails > 0;
	} else if (strcmp(mode, "maintrace") == 0 && argc == 6) {
		parse_ep(argv[3]);
		mode_maintrace(atoi(argv[2]), argv[4], atoi(argv[5]));
	} else if (strcmp(mode, "kinds") == 0 && argc == 8) {
		parse_ep(argv[4]);
		mode_kinds(atoi(argv[2]), (size_t)atol(argv[3]), client_tls(argv[5], argv[6], argv[7]));
	} else if (strcmp(mode, "bigreq") == 0 && argc == 7) {
		parse_ep(argv[3]);
		mode_bigreq(atoi(argv[2]), client_tls(argv[4], argv[5], argv[6]));
	} else if (strcmp(mode, "noread") == 0 && argc == 8) {
		parse_ep(argv[2]);
		mode_noread(client_tls(argv[3], argv[4], argv[5]), argv[6], atoi(argv[7]));
	} else {
		fprintf(stderr, "usage: see the top of tests/abuse/abuse.c\n");
		return 2;
	}
	return fails > 0;
}

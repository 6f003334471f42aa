/* SPDX-License-Identifier: MIT */
/*
 * Hostile clients for the machine API. Each mode prints TAP lines.
 *   abuse conns N ENDPOINT CA CRT KEY        N mutual-TLS connections at once, a call on each
 *   abuse slowloris N ENDPOINT SECONDS       N sockets dribbling a handshake byte by byte
 *   abuse garbage N ENDPOINT                 N sockets sending junk instead of TLS
 *   abuse bigframe ENDPOINT CA CRT KEY       an HTTP/2 frame far over the size limit
 *   abuse oversized ENDPOINT CA CRT KEY      a 5 MiB request message
 *   abuse noread ENDPOINT CA CRT KEY SVC SECS  follows a noisy log, stops reading for SECS,
 *                                            then expects the stream ended RESOURCE_EXHAUSTED
 */
#include <arpa/inet.h>
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/atomicfile.h"
#include "lib/grpc_client.h"
#include "lib/rng.h"
#include "lib/tls.h"

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

/* TLS by hand, then an HTTP/2 frame header announcing 16 MiB - 1 of DATA. */
static int mode_bigframe(struct tls_config *t)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint8_t settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	uint8_t big[9 + 1024] = { 0xff, 0xff, 0xff, 0x0, 0x0, 0, 0, 0, 1 };
	struct tls_conn *c = NULL;
	int s = tcp(), r;
	bool closed = false;

	if (s < 0 || tls_conn_new(t, s, host, &c) < 0) {
		ok(false, "bigframe: connect");
		return 0;
	}
	{
		struct timeval tv = { .tv_usec = 200000 };

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	while ((r = tls_handshake(c)) == -EAGAIN)
		;
	if (r < 0) {
		ok(false, "bigframe: handshake: %s", tls_error(c));
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
	} else if (strcmp(mode, "noread") == 0 && argc == 8) {
		parse_ep(argv[2]);
		mode_noread(client_tls(argv[3], argv[4], argv[5]), argv[6], atoi(argv[7]));
	} else {
		fprintf(stderr, "usage: see the top of tests/abuse/abuse.c\n");
		return 2;
	}
	return fails > 0;
}

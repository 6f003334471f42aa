/* SPDX-License-Identifier: MIT */
/*
 * Load for the API benchmark, the same against any server: closed-loop unary Version
 * calls (one in flight per connection), or new connections (TLS handshake + one call): full
 * handshakes, or handshakes resumed from the session ticket the previous connection got.
 *   grpcbench unary CONNS SECONDS ENDPOINT CA CRT KEY
 *   grpcbench handshake|resume PARALLEL SECONDS ENDPOINT CA CRT KEY
 * Prints one line: "calls N per_s X p50_us Y p99_us Z errors E full F resumed R total T"
 * (T counts the warm-up's calls too, for CPU per call measured around the whole run).
 *   grpcbench pingpong
 * The floor under any two-process design on this machine: the round trip of one byte
 * between two processes over a SOCK_SEQPACKET socketpair with epoll, as apid and
 * machined's core exchange a request and its reply. Prints "p50_us X p99_us Y".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/atomicfile.h"
#include "lib/grpc_client.h"

#define VERSION "/basalt.machine.MachineService/Version"

static struct loop *loop;
static struct tls_config *tls;
static char host[64];
static uint16_t port;
static uint64_t *lat;
static size_t nlat, caplat, errors, total;  /* total: every call that succeeded, warm-up too */
static uint64_t end_ns;
static bool handshake_mode;

struct slot {
	struct grpc_client *c;
	uint64_t t0;
	bool busy;
};

static struct grpc_client *dial(void)
{
	struct grpc_client_opts o = { .loop = loop, .host = host, .port = port, .numeric_only = true,
				      .tls = tls };
	struct grpc_client *c = NULL;
	char err[256];

	if (grpc_client_new(&o, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "grpcbench: %s\n", err);
		exit(2);
	}
	return c;
}

static void start(struct slot *s);

static void on_done(void *arg, int code, const char *msg)
{
	struct slot *s = arg;
	uint64_t now = mono_ns();

	s->busy = false;
	if (code != GRPC_OK) {
		if (errors++ == 0)
			fprintf(stderr, "grpcbench: %s: %s\n", grpc_code_name(code), msg);
	} else {
		total++;
		if (nlat < caplat)
			lat[nlat++] = now - s->t0;
	}
	if (handshake_mode) {
		grpc_client_close(s->c);
		s->c = NULL;
	}
}

static void start(struct slot *s)
{
	if (!s->c)
		s->c = dial();
	s->t0 = mono_ns();
	s->busy = true;
	if (grpc_client_call(s->c, VERSION, NULL, 0, "", 0, 10000, NULL, on_done, s, NULL) < 0) {
		s->busy = false;
		errors++;
	}
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static char *slurp(const char *p)
{
	char *t = NULL;
	size_t n;

	if (read_file(p, 65536, &t, &n) < 0) {
		fprintf(stderr, "grpcbench: cannot read %s\n", p);
		exit(2);
	}
	return t;
}

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int pingpong(void)
{
	enum { N = 20000 };
	int sv[2], ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN };
	char b[8] = { 0 };
	pid_t pid;

	caplat = N;
	lat = malloc(N * sizeof(*lat));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || ep < 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		int ep2 = epoll_create1(0);

		close(sv[0]);
		epoll_ctl(ep2, EPOLL_CTL_ADD, sv[1], &e);
		for (;;) {
			epoll_wait(ep2, &e, 1, -1);
			if (read(sv[1], b, sizeof(b)) <= 0)
				_exit(0);
			if (write(sv[1], b, 1) != 1)
				_exit(1);
		}
	}
	close(sv[1]);
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e);
	for (int i = 0; i < N; i++) {
		uint64_t t = mono_ns();

		if (write(sv[0], b, 1) != 1)
			return 2;
		epoll_wait(ep, &e, 1, -1);
		if (read(sv[0], b, sizeof(b)) <= 0)
			return 2;
		lat[nlat++] = mono_ns() - t;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("p50_us %.1f p99_us %.1f\n", (double)lat[nlat / 2] / 1000, (double)lat[nlat * 99 / 100] / 1000);
	return 0;
}

int main(int argc, char **argv)
{
	struct tls_opts to = { 0 };
	struct slot *slots;
	char err[256], *colon;
	int n, secs;
	uint64_t t0, warm;
	struct tls_stats st0 = { 0 }, st;

	if (argc == 2 && strcmp(argv[1], "pingpong") == 0)
		return pingpong();
	if (argc != 8) {
		fprintf(stderr, "usage: grpcbench unary|handshake|resume N SECONDS ENDPOINT CA CRT KEY\n");
		return 2;
	}
	handshake_mode = strcmp(argv[1], "handshake") == 0 || strcmp(argv[1], "resume") == 0;
	to.no_resume = strcmp(argv[1], "resume") != 0;
	n = atoi(argv[2]);
	secs = atoi(argv[3]);
	colon = strrchr(argv[4], ':');
	snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[4]), argv[4]);
	port = (uint16_t)atoi(colon + 1);
	to.ca_pem = slurp(argv[5]);
	to.cert_pem = slurp(argv[6]);
	to.key_pem = slurp(argv[7]);
	if (loop_new(&loop) < 0 || tls_config_new(&to, &tls, err, sizeof(err)) < 0) {
		fprintf(stderr, "grpcbench: %s\n", err);
		return 2;
	}
	caplat = 8u << 20;
	lat = malloc(caplat * sizeof(*lat));
	slots = calloc((size_t)n, sizeof(*slots));
	/* Warm up for a second (connections made, JITs warm), then measure. */
	warm = mono_ns() + 1000000000ull;
	t0 = warm;
	end_ns = warm + (uint64_t)secs * 1000000000ull;
	for (bool measuring = false;;) {
		uint64_t now = mono_ns();

		if (!measuring && now >= warm) {
			measuring = true;
			nlat = 0;
			errors = 0;
			t0 = now;
			tls_config_stats(tls, &st0);
		}
		if (now >= end_ns)
			break;
		for (int i = 0; i < n; i++)
			if (!slots[i].busy)
				start(&slots[i]);
		loop_run_once(loop, 10);
	}
	{
		double el = (double)(mono_ns() - t0) / 1e9;

		tls_config_stats(tls, &st);
		qsort(lat, nlat, sizeof(*lat), cmp);
		printf("calls %zu per_s %.0f p50_us %.0f p99_us %.0f errors %zu full %lu resumed %lu total %zu\n",
		       nlat, (double)nlat / el, nlat ? (double)lat[nlat / 2] / 1000 : 0,
		       nlat ? (double)lat[nlat * 99 / 100] / 1000 : 0, errors, st.full - st0.full,
		       st.resumed - st0.resumed, total);
	}
	return 0;
}

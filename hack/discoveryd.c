/* SPDX-License-Identifier: MIT */
/*
 * discoveryd: the discovery registry as a daemon of its own, for clusters whose nodes are
 * not all reachable from one control plane (or that want no third party). In memory, on
 * any Linux host; wire-compatible with Talos's discovery service.
 *   discoveryd [--listen ADDR:PORT] [--cert FILE --key FILE] [--rate N] [--burst N]
 *              [--affiliates-max N] [--endpoints-max N] [--ttl-max SECS] [--clusters-max N]
 *              [--watchers-max N] [--mem-max MIB] [--stats SECS] [--debug]
 * Without --cert it serves plain HTTP/2 (as Talos's service does behind a TLS proxy).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/discovery_srv.h"
#include "lib/grpc_server.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/parse.h"
#include "lib/tls.h"

#define PEM_MAX (1u << 20)

struct opts {
	const char *listen, *cert, *key;
	unsigned rate, burst, stats_secs;
	struct disc_limits limits;
	bool debug;
};

struct daemon {
	struct loop *loop;
	struct disc_server *ds;
	struct loop_timer stats;
	unsigned stats_secs;
};

static _Noreturn void usage(const char *why)
{
	fprintf(stderr,
		"discoveryd: %s\n"
		"usage: discoveryd [--listen ADDR:PORT] [--cert FILE --key FILE] [--rate N] [--burst N]\n"
		"                  [--affiliates-max N] [--endpoints-max N] [--ttl-max SECS] [--clusters-max N]\n"
		"                  [--watchers-max N] [--mem-max MIB] [--stats SECS] [--debug]\n",
		why);
	exit(2);
}

static unsigned number(const char *opt, const char *v, unsigned min, unsigned max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max) {
		char why[160];

		snprintf(why, sizeof(why), "%s %s: a whole number from %u to %u is required", opt, v, min, max);
		usage(why);
	}
	return (unsigned)n;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .listen = "0.0.0.0:3000", .rate = 15, .burst = 60 };
	disc_limits_default(&o->limits);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--debug") == 0) {
			o->debug = true;
			continue;
		}
		if (!v)
			usage(strncmp(a, "--", 2) == 0 ? "an option without its value" : "an argument it does not take");
		i++;
		if (strcmp(a, "--listen") == 0)
			o->listen = v;
		else if (strcmp(a, "--cert") == 0)
			o->cert = v;
		else if (strcmp(a, "--key") == 0)
			o->key = v;
		else if (strcmp(a, "--rate") == 0)
			o->rate = number(a, v, 0, 1000000);
		else if (strcmp(a, "--burst") == 0)
			o->burst = number(a, v, 0, 1000000);
		else if (strcmp(a, "--affiliates-max") == 0)
			o->limits.affiliates_max = number(a, v, 1, 1000000);
		else if (strcmp(a, "--endpoints-max") == 0)
			o->limits.endpoints_max = number(a, v, 1, 4096);
		else if (strcmp(a, "--ttl-max") == 0)
			o->limits.ttl_max_ms = (uint64_t)number(a, v, 1, 86400) * 1000;
		else if (strcmp(a, "--clusters-max") == 0)
			o->limits.clusters_max = number(a, v, 1, 10000000);
		else if (strcmp(a, "--watchers-max") == 0)
			o->limits.watchers_max = number(a, v, 1, 1000000);
		else if (strcmp(a, "--mem-max") == 0)
			o->limits.bytes_max = (size_t)number(a, v, 1, 1u << 20) << 20;
		else if (strcmp(a, "--stats") == 0)
			o->stats_secs = number(a, v, 1, 86400);
		else {
			char why[160];

			snprintf(why, sizeof(why), "unknown option %s", a);
			usage(why);
		}
	}
	if (!o->cert != !o->key)
		usage("--cert and --key go together");
}

static void on_call(void *arg, struct grpc_call *c)
{
	struct daemon *d = arg;

	if (disc_server_handle(d->ds, c))
		return;
	char why[256];

	snprintf(why, sizeof(why), "%s: not a method of sidero.discovery.server.Cluster", grpc_call_method(c));
	grpc_call_finish(c, GRPC_UNIMPLEMENTED, why);
}

static void on_stats(void *arg)
{
	struct daemon *d = arg;
	struct disc_stats st;

	disc_get_stats(disc_server_registry(d->ds), &st);
	log_info("stats: %zu clusters, %zu affiliates, %zu endpoints, %zu watchers, %zu bytes held; %llu updates, "
		 "%llu refused, %lu rate-limited, %llu expired, %llu watchers dropped, %llu events sent",
		 st.clusters, st.affiliates, st.endpoints, st.watchers, st.bytes, (unsigned long long)st.updates,
		 (unsigned long long)st.refused, disc_server_limited(d->ds), (unsigned long long)st.expired,
		 (unsigned long long)st.dropped, (unsigned long long)st.events);
	loop_timer_arm(d->loop, &d->stats, (uint64_t)d->stats_secs * 1000);
}

static void on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct daemon *d = arg;

	log_info("signal %u: stopping", si->ssi_signo);
	loop_stop(d->loop);
}

static struct tls_config *load_tls(const struct opts *o)
{
	char *cert = NULL, *key = NULL, err[256] = "";
	size_t len;
	struct tls_config *t = NULL;
	int r;

	if ((r = read_file(o->cert, PEM_MAX, &cert, &len)) < 0)
		fatalx("--cert %s: %s", o->cert, strerror(-r));
	if ((r = read_file(o->key, PEM_MAX, &key, &len)) < 0)
		fatalx("--key %s: %s", o->key, strerror(-r));
	struct tls_opts to = { .server = true, .cert_pem = cert, .key_pem = key };

	r = tls_config_new(&to, &t, err, sizeof(err));
	explicit_bzero(key, len);
	free(key);
	free(cert);
	if (r < 0)
		fatalx("TLS from %s and %s: %s", o->cert, o->key, err);
	return t;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct daemon d = { 0 };
	struct grpc_server *srv = NULL;
	struct tls_config *tls = NULL;
	char host[256], err[256];
	unsigned port;

	log_init("discoveryd", 2);
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &o);
	log_set_debug(o.debug);
	if (!parse_hostport(o.listen, host, sizeof(host), &port) || port > 65535)
		usage("--listen: ADDR:PORT is required (0.0.0.0:3000, [::]:3000)");
	if (o.cert)
		tls = load_tls(&o);
	if (loop_new(&d.loop) < 0)
		fatal("event loop");
	struct disc_server_opts dso = { .loop = d.loop, .limits = &o.limits, .rate = o.rate, .burst = o.burst };

	if (disc_server_new(&dso, &d.ds) < 0)
		fatal("registry");
	struct grpc_server_opts so = { .loop = d.loop, .handler = on_call, .arg = &d, .allow_plain = !tls,
				       .idle_timeout_ms = 60ull * 60 * 1000 };

	if (grpc_server_new(&so, &srv) < 0)
		fatal("gRPC server");
	grpc_server_set_tls(srv, tls);
	if (grpc_server_listen(srv, host, (uint16_t)port, err, sizeof(err)) < 0)
		fatalx("%s", err);
	loop_signal(d.loop, SIGTERM, on_signal, &d);
	loop_signal(d.loop, SIGINT, on_signal, &d);
	if (o.stats_secs) {
		d.stats_secs = o.stats_secs;
		loop_timer_init(&d.stats, on_stats, &d);
		loop_timer_arm(d.loop, &d.stats, (uint64_t)o.stats_secs * 1000);
	}
	log_info("serving the discovery registry on %s:%u (%s), %zu affiliates per cluster, TTL up to %llu s, %s",
		 host, grpc_server_port(srv), tls ? "TLS" : "plain HTTP/2", o.limits.affiliates_max,
		 (unsigned long long)(o.limits.ttl_max_ms / 1000),
		 o.rate ? "rate-limited per address" : "no rate limit");
	loop_run(d.loop);
	grpc_server_free(srv);
	disc_server_free(d.ds);
	tls_config_free(tls);
	if (o.stats_secs)
		loop_timer_cancel(d.loop, &d.stats);
	loop_free(d.loop);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The discovery registry: clusters of affiliates (sealed blobs a registry cannot read),
 * each held for the TTL its last update gave, watched by nodes that want every change.
 * Wire-compatible with Talos's discovery service (api/discovery.proto). In memory only,
 * bounded by limits on ids, blobs, endpoints, affiliates, clusters, watchers and bytes; a
 * watcher that cannot keep up is dropped (it watches again and gets a fresh snapshot).
 *
 * Transport-free: requests and replies are protobuf bytes, so discoveryd, apid on a
 * control-plane node and the fuzzer drive the same code. lib/discovery_srv.c puts it on
 * a gRPC server.
 */
#ifndef BASALT_DISCOVERY_H
#define BASALT_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISC_SERVICE "/sidero.discovery.server.Cluster/"

struct disc_limits {
	size_t id_max;          /* cluster and affiliate ids, bytes (256) */
	size_t data_max;        /* one affiliate's sealed data (2048) */
	size_t endpoint_max;    /* one sealed endpoint (32) */
	size_t endpoints_max;   /* endpoints per affiliate (64) */
	size_t affiliates_max;  /* affiliates per cluster (1024) */
	uint64_t ttl_max_ms;    /* the longest TTL an update may ask (30 min) */
	size_t clusters_max;    /* clusters held at once (65536) */
	size_t watchers_max;    /* watchers across all clusters (16384) */
	size_t bytes_max;       /* ids, blobs and endpoints held across all clusters (256 MiB) */
};

struct disc_stats {
	size_t clusters, affiliates, endpoints, watchers, bytes;
	uint64_t updates;       /* updates taken */
	uint64_t refused;       /* requests refused (invalid or over a limit) */
	uint64_t expired;       /* affiliates and endpoints that outlived their TTL */
	uint64_t dropped;       /* watchers dropped for falling behind */
	uint64_t events;        /* watch messages sent */
};

struct disc_registry;
struct disc_watcher;

/* One watch message for the watcher. Nonzero: it cannot take more, drop it. */
typedef int disc_send_fn(void *arg, const uint8_t *msg, size_t len);
/* The registry dropped the watcher (fell behind, or the registry is freed); the watcher is gone. */
typedef void disc_gone_fn(void *arg, int code, const char *why);
typedef uint64_t disc_clock_fn(void *arg);   /* monotonic ms */

void disc_limits_default(struct disc_limits *l);
/* clock NULL: CLOCK_MONOTONIC. */
int disc_new(const struct disc_limits *l, disc_clock_fn *clock, void *clock_arg, struct disc_registry **out);
/* Every watcher is told it is gone (UNAVAILABLE) first. */
void disc_free(struct disc_registry *r);

/* A method of the service ("/sidero.discovery.server.Cluster/Hello"), Watch included. */
bool disc_is_method(const char *method);
bool disc_is_watch(const char *method);

/*
 * A unary call: Hello, AffiliateUpdate, AffiliateDelete or List. peer_ip is the client's
 * address as the registry sees it (4 or 16 bytes). Returns a gRPC status; on OK *reply
 * (caller frees) holds the reply message, else why says what was refused and why.
 */
int disc_unary(struct disc_registry *r, const char *method, const uint8_t *peer_ip, size_t peer_len,
	       const uint8_t *req, size_t len, uint8_t **reply, size_t *rlen, char *why, size_t whylen);

/*
 * Watch: the snapshot goes out through send at once, then every change. Returns a gRPC
 * status; on OK *out is the watcher, until disc_unwatch or gone.
 */
int disc_watch(struct disc_registry *r, const uint8_t *req, size_t len, disc_send_fn *send, disc_gone_fn *gone,
	       void *arg, struct disc_watcher **out, char *why, size_t whylen);
/* The watcher's client went away: no callback of it runs again. */
void disc_unwatch(struct disc_registry *r, struct disc_watcher *w);

/* Drops what outlived its TTL (watchers are told). Returns ms to the next expiry, or UINT64_MAX. */
uint64_t disc_expire(struct disc_registry *r);
void disc_get_stats(const struct disc_registry *r, struct disc_stats *st);

#endif

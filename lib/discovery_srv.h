/* SPDX-License-Identifier: MIT */
/*
 * The discovery registry on a gRPC server: the service's calls handed to the registry,
 * watches kept as open calls, a rate limit per client address, expiry on a timer, and
 * watchers that stop reading dropped so they hold no memory of ours. Used by discoveryd
 * and by apid on a control-plane node (the embedded registry).
 */
#ifndef BASALT_DISCOVERY_SRV_H
#define BASALT_DISCOVERY_SRV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/discovery.h"
#include "lib/grpc_server.h"
#include "lib/loop.h"

struct disc_server_opts {
	struct loop *loop;
	const struct disc_limits *limits;  /* NULL: disc_limits_default */
	unsigned rate;                     /* requests per second per client address; 0: no limit */
	unsigned burst;                    /* requests a client may make at once (0: 4 x rate) */
	size_t watch_behind_max;           /* bytes a watcher may fall behind after its snapshot (0: 256 KiB) */
	unsigned snapshot_secs;            /* a watcher must have taken its snapshot by then (0: 30) */
};

struct disc_server;

int disc_server_new(const struct disc_server_opts *o, struct disc_server **out);
/* Ends every watch (UNAVAILABLE) and frees the registry. */
void disc_server_free(struct disc_server *s);
/* The call is one of the discovery service's: handled (it is the server's now), else false. */
bool disc_server_handle(struct disc_server *s, struct grpc_call *c);
struct disc_registry *disc_server_registry(struct disc_server *s);
/* Requests refused by the rate limit so far. */
unsigned long disc_server_limited(const struct disc_server *s);

#endif

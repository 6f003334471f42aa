/* SPDX-License-Identifier: MIT */
/* Client of init's control socket (api/init.proto), non-blocking on the caller's loop. */
#ifndef BASALT_INITCLIENT_H
#define BASALT_INITCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/init.pb-c.h"
#include "lib/buf.h"
#include "lib/loop.h"

#define INITCLIENT_MAX_PENDING 32
#define INITCLIENT_MAX_RESPONSE (8u << 20)

/* Called for each response to a request; return true to keep receiving on that request. */
typedef bool initclient_response_fn(void *arg, const Basalt__Init__Response *resp);
/*
 * Called when the connection is lost (reason is a -errno); pending requests are dropped.
 * If init said why (it refused us, or dropped us for a bad request), c->refusal holds it.
 */
typedef void initclient_lost_fn(void *arg, int reason);

struct initclient_pending {
	uint64_t id;
	initclient_response_fn *fn;
	void *arg;
};

struct initclient {
	struct loop *loop;
	int fd;
	struct loop_watch *watch;
	struct buf in, out;
	uint64_t next_id;
	struct initclient_pending pending[INITCLIENT_MAX_PENDING];
	size_t npending;
	size_t reserved;  /* a slot kept for the stream whose callback is running */
	initclient_lost_fn *lost;
	void *lost_arg;
	char refusal[256];  /* init's reason when it refused or dropped us, else empty */
};

void initclient_init(struct initclient *c, struct loop *loop, initclient_lost_fn *lost, void *arg);
/* Connects to the socket at path; err says why not (e.g. init not listening, not root). */
int initclient_connect(struct initclient *c, const char *path, char *err, size_t errlen);
bool initclient_connected(const struct initclient *c);
/* Assigns req->id, queues it, and calls fn for its responses. */
int initclient_send(struct initclient *c, Basalt__Init__Request *req, initclient_response_fn *fn,
		    void *arg);
void initclient_close(struct initclient *c);

#endif

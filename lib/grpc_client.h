/* SPDX-License-Identifier: MIT */
/*
 * A gRPC client on the event loop: one HTTP/2 connection to one endpoint carrying any
 * number of unary or server-streaming calls. Used by osctl and by machined to forward a
 * request to other nodes.
 *
 * Every call ends with exactly one done callback: the server's status, or the reason the
 * call could not complete (connection refused, certificate rejected, deadline exceeded).
 */
#ifndef BASALT_GRPC_CLIENT_H
#define BASALT_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/grpc.h"
#include "lib/loop.h"
#include "lib/tls.h"

struct grpc_client;
struct grpc_ccall;

/* One reply message, borrowed for the call. Return nonzero to cancel the call. */
typedef int grpc_msg_fn(void *arg, const uint8_t *msg, size_t len);
/* The call is over. message is the server's grpc-message or our own explanation. */
typedef void grpc_done_fn(void *arg, int code, const char *message);

struct grpc_client_opts {
	struct loop *loop;
	const char *host;             /* an IP address, or a name when !numeric_only */
	uint16_t port;
	bool numeric_only;            /* refuse names (never block on DNS) */
	struct tls_config *tls;       /* a reference is taken; NULL: plain HTTP/2 */
	uint64_t connect_timeout_ms;  /* connect + TLS handshake; 0: 10 s */
	size_t max_msg;               /* largest reply accepted; 0: GRPC_MAX_MSG_DEFAULT */
	int adopt_fd;                 /* > 0: a connected non-blocking socket to take over
					 instead of dialing (host and port name it) */
};

struct grpc_md {
	const char *name;   /* lower case */
	const char *value;
};

/* Starts connecting. Calls can be made at once; they are sent when the connection is up. */
int grpc_client_new(const struct grpc_client_opts *o, struct grpc_client **out, char *err,
		    size_t errlen);
/* Frees the client at once without calling any done callback. Not from inside a callback. */
void grpc_client_free(struct grpc_client *c);
/* Ends every call (done: CANCELLED) and frees the client from the loop; safe anywhere. */
void grpc_client_close(struct grpc_client *c);
/* Why the connection failed or closed, or NULL while it is usable. */
const char *grpc_client_error(const struct grpc_client *c);
bool grpc_client_connected(const struct grpc_client *c);

/*
 * Sends req to method ("/package.Service/Method"). timeout_ms 0: no deadline. *out (may be
 * NULL) stays valid until done has run. On failure to even start, returns -errno and done
 * is not called.
 */
int grpc_client_call(struct grpc_client *c, const char *method, const struct grpc_md *md, size_t nmd,
		     const void *req, size_t len, uint64_t timeout_ms, grpc_msg_fn *on_msg,
		     grpc_done_fn *on_done, void *arg, struct grpc_ccall **out);
/* Resets the call; done runs with CANCELLED (from the loop). */
void grpc_ccall_cancel(struct grpc_ccall *call);
/* Stops granting the server flow-control credit for this call, and grants it again. */
void grpc_ccall_pause(struct grpc_ccall *call);
void grpc_ccall_resume(struct grpc_ccall *call);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The link between machined's core and its API process (apid): a SOCK_SEQPACKET
 * socketpair carrying typed, length-checked messages. A message larger than one datagram
 * is sent as consecutive chunks, each with the same header and IPC_MORE on all but the
 * last. Anything malformed (unknown type, lengths that do not add up, a message over the
 * limit, a type the receiving side never gets) is a protocol error: the core kills apid,
 * apid exits.
 */
#ifndef BASALT_APIIPC_H
#define BASALT_APIIPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/loop.h"

#define IPC_HDR 16
#define IPC_CHUNK (60u << 10)         /* payload bytes per datagram */
#define IPC_MAX_MSG (8u << 20)        /* a whole message */
#define IPC_MORE 0x01

enum ipc_type {
	IPC_SETUP = 1,     /* core → apid: basalt.apid.Setup; aux 1: close older connections */
	IPC_REQUEST,       /* apid → core: aux = role | IPC_REQ_*; payload = method index (1 byte) + request */
	IPC_REPLY,         /* core → apid: one reply message */
	IPC_FINISH,        /* core → apid: aux = status code; payload = status message */
	IPC_CANCEL,        /* apid → core: the client side of the call is gone */
	IPC_ACK,           /* apid → core: aux = reply bytes the call's client side has taken */
	IPC_READY,         /* apid → core: a Setup is in force and the listener is up */
	IPC_POLICY,        /* core → apid: aux = IPC_POLICY_* bits from the config in force */
	IPC_TYPE_MAX,
};

/*
 * IPC_REQUEST's aux: the role apid found in the client certificate (ROLE_NONE for a call
 * made in maintenance mode), and whether the connection was made under maintenance-mode
 * TLS settings (no client identity). The core decides what such a call may do.
 */
#define IPC_REQ_ROLE_MASK 0xffu
#define IPC_REQ_MAINTENANCE 0x100u
#define IPC_REQ_TRUSTD 0x200u        /* came in on the signing port (50001), without identity */

/* IPC_POLICY's aux. */
#define IPC_POLICY_LOCAL_FORWARDING 0x1u  /* machine.features.localForwarding: loopback/link-local targets */

struct ipc_msg {
	uint8_t type;
	uint32_t call;
	uint32_t aux;
	const uint8_t *data;  /* borrowed until the next ipc_next */
	size_t len;
};

struct ipc;
typedef void ipc_msg_fn(void *arg, const struct ipc_msg *m);
/* The link failed: peer gone (-EPIPE), or a protocol error (-EPROTO) with why. */
typedef void ipc_fail_fn(void *arg, int err, const char *why);

struct ipc_opts {
	struct loop *loop;
	int fd;                      /* taken over */
	bool core;                   /* which side: decides the types it accepts */
	ipc_msg_fn *on_msg;
	ipc_fail_fn *on_fail;
	void (*on_idle)(void *arg);  /* after each batch of messages (to flush ACKs) */
	void *arg;
};

int ipc_new(const struct ipc_opts *o, struct ipc **out);
void ipc_free(struct ipc *x);
/* Queues one message (chunked as needed). -ENOMEM, -EMSGSIZE, -EPIPE once failed. */
int ipc_send(struct ipc *x, uint8_t type, uint32_t call, uint32_t aux, const void *data, size_t len);
/* Bytes queued for the peer, not yet taken by the socket. */
size_t ipc_backlog(const struct ipc *x);

/*
 * The reassembly and checks on their own (for tests and fuzzing): feeds one datagram.
 * Returns 1 with *m when a message is complete, 0 when more chunks are due, -EPROTO with
 * why when the datagram is malformed.
 */
struct ipc_rx {
	bool core;
	struct buf b;
	uint8_t type;
	uint32_t call, aux, total;
	bool partial;
};
void ipc_rx_init(struct ipc_rx *r, bool core);
void ipc_rx_fini(struct ipc_rx *r);
int ipc_rx_feed(struct ipc_rx *r, const uint8_t *dgram, size_t n, struct ipc_msg *m, char *why,
		size_t whylen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * gRPC's wire pieces shared by the server and the client: status codes, the grpc-timeout
 * and grpc-message header encodings, and the 5-byte length-prefixed message framing.
 */
#ifndef BASALT_GRPC_H
#define BASALT_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define GRPC_MAX_MSG_DEFAULT (4u << 20)  /* largest message either side accepts */
#define GRPC_PREFIX 5                    /* compressed flag (1) + big-endian length (4) */

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
};

/* "PERMISSION_DENIED"; "UNKNOWN" for codes outside the table. */
const char *grpc_code_name(int code);
/* The status a client reports for an HTTP status that is not 200 (gRPC's mapping). */
int grpc_code_from_http(int http_status);

/* A grpc-timeout value ("<up to 8 digits><H|M|S|m|u|n>") in milliseconds, rounded up. */
int grpc_timeout_parse(const char *v, size_t len, uint64_t *ms);
/* ms as a grpc-timeout value. */
void grpc_timeout_format(uint64_t ms, char out[16]);

/* grpc-message: percent-encodes bytes outside printable ASCII and '%'. Returns the length. */
size_t grpc_msg_encode(const char *in, char *out, size_t outlen);
/* Reverses grpc_msg_encode (malformed escapes are kept as they are). */
size_t grpc_msg_decode(const char *in, size_t len, char *out, size_t outlen);

/* Writes the length prefix of an uncompressed message of len bytes. */
void grpc_prefix(uint8_t out[GRPC_PREFIX], size_t len);

/* Splits a DATA byte stream into messages, refusing oversized or compressed ones early. */
struct grpc_deframer {
	struct buf b;
	size_t max;   /* largest message accepted */
	size_t taken; /* bytes of the message last returned, consumed on the next call */
};

void grpc_deframer_init(struct grpc_deframer *d, size_t max);
void grpc_deframer_fini(struct grpc_deframer *d);
/*
 * Appends bytes. -EMSGSIZE as soon as a message's declared length exceeds max (nothing of
 * it is buffered beyond its prefix), -ENOTSUP for a compressed message, -ENOMEM.
 */
int grpc_deframer_push(struct grpc_deframer *d, const void *p, size_t n);
/* The next complete message: 1 with msg borrowed until the next call, 0 if none yet. */
int grpc_deframer_next(struct grpc_deframer *d, const uint8_t **msg, size_t *len);
/* Bytes held that do not make a whole message (a stream ending here was cut short). */
size_t grpc_deframer_partial(const struct grpc_deframer *d);

#endif

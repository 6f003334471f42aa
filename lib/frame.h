/* SPDX-License-Identifier: MIT */
/* Length-prefixed protobuf messages on a stream: 4-byte big-endian length, then the body. */
#ifndef BASALT_FRAME_H
#define BASALT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/buf.h"

#define FRAME_HDR 4

/*
 * Looks at the start of p[0..n). Returns 1 and sets *body_len when a whole frame is there
 * (FRAME_HDR + *body_len bytes), 0 when more bytes are needed, -EMSGSIZE when the declared
 * length exceeds max (the stream cannot be resynchronised; drop the peer).
 */
int frame_peek(const uint8_t *p, size_t n, size_t max, size_t *body_len);

/* Appends header and packed message to out; -EMSGSIZE if the message exceeds max. */
int frame_append_msg(struct buf *out, const ProtobufCMessage *msg, size_t max);

#endif

/* SPDX-License-Identifier: MIT */
#include "lib/frame.h"

#include <errno.h>

int frame_peek(const uint8_t *p, size_t n, size_t max, size_t *body_len)
{
	uint32_t len;

	if (n < FRAME_HDR)
		return 0;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len > max)
		return -EMSGSIZE;
	if (n - FRAME_HDR < len)
		return 0;
	*body_len = len;
	return 1;
}

int frame_append_msg(struct buf *out, const ProtobufCMessage *msg, size_t max)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *p;
	int err;

	if (len > max || len > UINT32_MAX)
		return -EMSGSIZE;
	err = buf_reserve(out, FRAME_HDR + len);
	if (err < 0)
		return err;
	p = buf_tail(out);
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	protobuf_c_message_pack(msg, p + FRAME_HDR);
	out->len += FRAME_HDR + len;
	return 0;
}

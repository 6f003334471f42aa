/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a read offset: used for socket input and write queues. */
#ifndef BASALT_BUF_H
#define BASALT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf {
	uint8_t *data;
	size_t off;  /* first unread byte */
	size_t len;  /* unread bytes, starting at data + off */
	size_t cap;  /* allocated bytes */
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
/* buf_fini for a buffer that held a secret: zeroed before it is freed. */
void buf_fini_secret(struct buf *b);
/* Makes room for n more bytes after the data; may move the data to the front. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
void buf_consume(struct buf *b, size_t n);
void buf_clear(struct buf *b);

static inline uint8_t *buf_head(const struct buf *b)
{
	return b->data + b->off;
}

static inline uint8_t *buf_tail(const struct buf *b)
{
	return b->data + b->off + b->len;
}

/* Reads at most max bytes from fd; returns bytes read, 0 at EOF, or -errno (-EAGAIN too). */
ssize_t buf_read_fd(struct buf *b, int fd, size_t max);
/* Writes queued bytes to fd; returns bytes written or -errno (-EAGAIN when it would block). */
ssize_t buf_write_fd(struct buf *b, int fd);

#endif

/* SPDX-License-Identifier: MIT */
#include "lib/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_fini(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_fini_secret(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_fini(b);
}

void buf_clear(struct buf *b)
{
	b->off = 0;
	b->len = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->off - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	if (n > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int err = buf_reserve(b, n);

	if (err < 0)
		return err;
	if (n)
		memcpy(buf_tail(b), p, n);
	b->len += n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_clear(b);
		return;
	}
	b->off += n;
	b->len -= n;
}

ssize_t buf_read_fd(struct buf *b, int fd, size_t max)
{
	ssize_t r;
	int err = buf_reserve(b, max);

	if (err < 0)
		return err;
	do
		r = read(fd, buf_tail(b), max);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	b->len += (size_t)r;
	return r;
}

ssize_t buf_write_fd(struct buf *b, int fd)
{
	ssize_t r;

	if (b->len == 0)
		return 0;
	do
		r = send(fd, buf_head(b), b->len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ENOTSOCK) {
		do
			r = write(fd, buf_head(b), b->len);
		while (r < 0 && errno == EINTR);
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	buf_consume(b, (size_t)r);
	return r;
}

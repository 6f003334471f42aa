/* SPDX-License-Identifier: MIT */
/* The fuzzer's end of a socketpair whose other end a target's connection code reads. */
#ifndef BASALT_FUZZ_PEER_H
#define BASALT_FUZZ_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads away whatever the target wrote. */
static inline void peer_drain(int fd)
{
	char sink[65536];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

/* Writes what the socket takes of data[*off..size), half-closes once all of it is written
 * (the target sees the end of its input), and reads away the target's replies. */
static inline void peer_feed(int fd, const uint8_t *data, size_t size, size_t *off)
{
	while (*off < size) {
		ssize_t n = write(fd, data + *off, size - *off);

		if (n <= 0)
			break;
		*off += (size_t)n;
	}
	if (*off == size)
		shutdown(fd, SHUT_WR);
	peer_drain(fd);
}

#endif

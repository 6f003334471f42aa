/* SPDX-License-Identifier: MIT */
#include "osctl/cluster/l2switch.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/loop.h"

void l2sw_init(struct l2sw *sw, size_t nports)
{
	memset(sw, 0, sizeof(*sw));
	sw->nports = nports > L2SW_PORTS ? L2SW_PORTS : nports;
}

static struct l2sw_entry *lookup(struct l2sw *sw, const uint8_t mac[6], uint64_t now_ms)
{
	for (size_t i = 0; i < sw->nmacs; i++)
		if (memcmp(sw->macs[i].mac, mac, 6) == 0)
			return now_ms - sw->macs[i].seen_ms <= L2SW_AGE_MS ? &sw->macs[i] : NULL;
	return NULL;
}

/* The source MAC is on port (moved there if it was elsewhere); when the table is full, the
 * entry heard from longest ago makes room. */
static void learn(struct l2sw *sw, const uint8_t mac[6], size_t port, uint64_t now_ms)
{
	struct l2sw_entry *e = NULL;

	for (size_t i = 0; i < sw->nmacs && !e; i++)
		if (memcmp(sw->macs[i].mac, mac, 6) == 0)
			e = &sw->macs[i];
	if (!e && sw->nmacs < L2SW_MACS) {
		e = &sw->macs[sw->nmacs++];
	} else if (!e) {
		e = &sw->macs[0];
		for (size_t i = 1; i < sw->nmacs; i++)
			if (sw->macs[i].seen_ms < e->seen_ms)
				e = &sw->macs[i];
	}
	memcpy(e->mac, mac, 6);
	e->port = (uint8_t)port;
	e->seen_ms = now_ms;
}

size_t l2sw_route(struct l2sw *sw, size_t from, const uint8_t *frame, size_t len, uint64_t now_ms,
		  bool out[L2SW_PORTS])
{
	const struct l2sw_entry *dst;
	size_t n = 0;

	memset(out, 0, L2SW_PORTS * sizeof(out[0]));
	/* A source MAC with the group bit set is no station's: never learnt, never sent on. */
	if (from >= sw->nports || len < L2SW_FRAME_MIN || len > L2SW_FRAME_MAX || (frame[6] & 1)) {
		sw->dropped++;
		return 0;
	}
	sw->frames++;
	learn(sw, frame + 6, from, now_ms);
	if (!(frame[0] & 1) && (dst = lookup(sw, frame, now_ms))) {
		if (dst->port == from) {
			sw->dropped++;
			return 0;
		}
		out[dst->port] = true;
		return 1;
	}
	sw->flooded++;
	for (size_t p = 0; p < sw->nports; p++)
		if (p != from) {
			out[p] = true;
			n++;
		}
	return n;
}

/* --- on unix datagram sockets --- */

struct served {
	struct l2sw sw;
	struct loop *loop;
	int fd;
	struct sockaddr_un ports[L2SW_PORTS];
	uint8_t frame[L2SW_FRAME_MAX + 1];
};

static void on_frame(void *arg, uint32_t events)
{
	struct served *s = arg;

	(void)events;
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_un from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, s->frame, sizeof(s->frame), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		bool out[L2SW_PORTS];
		size_t port = s->sw.nports;

		if (n < 0)
			return;
		/* Only the cluster's own nodes, by the socket each bound. */
		for (size_t p = 0; p < s->sw.nports && fl > offsetof(struct sockaddr_un, sun_path); p++)
			if (strncmp(from.sun_path, s->ports[p].sun_path, sizeof(from.sun_path)) == 0)
				port = p;
		if ((size_t)n > L2SW_FRAME_MAX || !l2sw_route(&s->sw, port, s->frame, (size_t)n, mono_ms(), out))
			continue;
		for (size_t p = 0; p < s->sw.nports; p++)
			if (out[p])  /* a node that is not up (yet) just misses it */
				sendto(s->fd, s->frame, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&s->ports[p],
				       sizeof(s->ports[p]));
	}
}

static void on_stop(void *arg, const struct signalfd_siginfo *si)
{
	(void)si;
	loop_stop(arg);
}

static int path_in(struct sockaddr_un *a, const char *dir, const char *name, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if ((size_t)snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name) >= sizeof(a->sun_path)) {
		snprintf(err, errlen, "%s/%s: longer than a unix socket path may be (%zu bytes)", dir, name,
			 sizeof(a->sun_path) - 1);
		return -1;
	}
	return 0;
}

int l2sw_serve(const char *dir, size_t nports, char *err, size_t errlen)
{
	static struct served s;  /* 64 KiB frame buffer and the table: not on the stack */
	struct sockaddr_un self;
	struct loop_watch *w;
	int rc = -1, buf = 4 << 20;
	mode_t old;

	if (nports == 0 || nports > L2SW_PORTS) {
		snprintf(err, errlen, "%zu ports: 1 to %d", nports, L2SW_PORTS);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	l2sw_init(&s.sw, nports);
	if (path_in(&self, dir, "switch.sock", err, errlen) < 0)
		return -1;
	for (size_t p = 0; p < nports; p++) {
		char name[32];

		snprintf(name, sizeof(name), "node-%zu.sock", p);
		if (path_in(&s.ports[p], dir, name, err, errlen) < 0)
			return -1;
	}
	if ((s.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	unlink(self.sun_path);
	old = umask(077);
	if (bind(s.fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		snprintf(err, errlen, "bind %s: %s", self.sun_path, strerror(errno));
		umask(old);
		goto out;
	}
	umask(old);
	if (loop_new(&s.loop) < 0 || loop_watch_add(s.loop, s.fd, EPOLLIN, on_frame, &s, &w) < 0 ||
	    loop_signal(s.loop, SIGTERM, on_stop, s.loop) < 0 || loop_signal(s.loop, SIGINT, on_stop, s.loop) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		goto out;
	}
	rc = loop_run(s.loop) < 0 ? -1 : 0;
	if (rc < 0)
		snprintf(err, errlen, "event loop: %s", strerror(errno));
	else
		fprintf(stderr, "osctl: cluster switch: %llu frames (%llu flooded), %llu dropped, %zu MAC addresses learnt\n",
			(unsigned long long)s.sw.frames, (unsigned long long)s.sw.flooded, (unsigned long long)s.sw.dropped,
			s.sw.nmacs);
out:
	if (s.loop)
		loop_free(s.loop);
	close(s.fd);
	unlink(self.sun_path);
	return rc;
}

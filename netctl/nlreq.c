/* SPDX-License-Identifier: MIT */
/* One rtnetlink request, built and sent with an ack (see nlreq.h). */
#include "netctl/nlreq.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void *nlreq_init(struct nlreq *q, uint16_t type, uint16_t flags, size_t hdrlen)
{
	memset(q, 0, sizeof(*q));
	q->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
	q->h.nlmsg_type = type;
	q->h.nlmsg_flags = flags;
	return NLMSG_DATA(&q->h);
}

int nlreq_put(struct nlreq *q, unsigned short type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->h.nlmsg_len), total = RTA_LENGTH(len);
	struct rtattr *a = (struct rtattr *)((char *)q + at);

	if (at + RTA_ALIGN(total) > sizeof(*q))
		return -EMSGSIZE;
	a->rta_type = type;
	a->rta_len = (unsigned short)total;
	if (len)
		memcpy(RTA_DATA(a), data, len);
	q->h.nlmsg_len = (uint32_t)(at + RTA_ALIGN(total));
	return 0;
}

int nlreq_raw(struct nlreq *q, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(q->h.nlmsg_len);

	if (at + NLMSG_ALIGN(len) > sizeof(*q))
		return -EMSGSIZE;
	memcpy((char *)q + at, data, len);
	memset((char *)q + at + len, 0, NLMSG_ALIGN(len) - len);
	q->h.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
	return 0;
}

int nlreq_put_u8(struct nlreq *q, unsigned short type, uint8_t v)
{
	return nlreq_put(q, type, &v, sizeof(v));
}

int nlreq_put_u16(struct nlreq *q, unsigned short type, uint16_t v)
{
	return nlreq_put(q, type, &v, sizeof(v));
}

int nlreq_put_u32(struct nlreq *q, unsigned short type, uint32_t v)
{
	return nlreq_put(q, type, &v, sizeof(v));
}

int nlreq_put_str(struct nlreq *q, unsigned short type, const char *s)
{
	return nlreq_put(q, type, s, strlen(s) + 1);
}

struct rtattr *nlreq_nest(struct nlreq *q, unsigned short type)
{
	struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));

	return nlreq_put(q, type, NULL, 0) < 0 ? NULL : a;
}

void nlreq_nest_end(struct nlreq *q, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)q + q->h.nlmsg_len - (char *)nest);
}

struct ack {
	int error;
	char *text;
	size_t textlen;
};

/* The kernel's answer to one request: its error and, with extended acks, its reason. */
static int on_ack(const struct nlmsghdr *h, struct ack *a)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off, len = h->nlmsg_len;

	if (h->nlmsg_type != NLMSG_ERROR || len < NLMSG_LENGTH(sizeof(*e)))
		return 0;
	a->error = e->error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 1;
	/* After the error: the request's header (whole request when not capped), then TLVs. */
	off = NLMSG_LENGTH(sizeof(*e));
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len > sizeof(e->msg) ? NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(e->msg)) : 0;
	while (off + sizeof(struct nlattr) <= len) {
		const struct nlattr *t = (const void *)((const char *)h + off);

		if (t->nla_len < sizeof(*t) || off + t->nla_len > len)
			break;
		if ((t->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->textlen) {
			size_t n = t->nla_len - sizeof(*t);
			const char *s = (const char *)(t + 1);

			if (n > 0 && memchr(s, '\0', n) && strlen(s) < a->textlen)
				memcpy(a->text, s, strlen(s) + 1);
		}
		off += NLA_ALIGN(t->nla_len);
	}
	return 1;
}

/*
 * One socket for every request of the process (opened at the first, O_CLOEXEC): a
 * thousand addresses are a thousand send/recv pairs, not a thousand sockets. Each request
 * has its own sequence number, so a late ack of an earlier one is never taken for its own.
 */
static int nl_fd = -1;
static uint32_t nl_seq;

static int nl_socket(void)
{
	struct timeval tv = { 2, 0 };
	int one = 1, rcvbuf = 1 << 20;

	if (nl_fd >= 0)
		return nl_fd;
	if ((nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0)
		return -1;
	setsockopt(nl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Error acks without a copy of the request, and room for a whole batch of acks. */
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return nl_fd;
}

/* The socket gave no ack in time or failed: a fresh one for the next request. */
static void nl_reset(void)
{
	if (errno == EAGAIN || errno == ENOBUFS) {
		close(nl_fd);
		nl_fd = -1;
	}
}

int nlreq_transact(struct nlreq *q, const char *what, char *err, size_t errlen)
{
	char buf[8192], text[256] = "";
	struct ack a = { -EIO, text, sizeof(text) };
	int fd = nl_socket(), done = 0;
	uint32_t seq = ++nl_seq ? nl_seq : ++nl_seq;

	if (fd < 0) {
		snprintf(err, errlen, "%s: netlink socket: %s", what, strerror(errno));
		return -errno;
	}
	q->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	q->h.nlmsg_seq = seq;
	if (send(fd, q, q->h.nlmsg_len, 0) < 0) {
		a.error = -errno;
		done = 1;
	}
	while (!done) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		int rem = (int)got;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			a.error = -errno;
			nl_reset();
			break;
		}
		if (fl < sizeof(from) || from.nl_pid != 0)
			continue;
		for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, rem) && !done; h = NLMSG_NEXT(h, rem))
			if (h->nlmsg_seq == seq)
				done = on_ack(h, &a);
	}
	if (a.error < 0)
		snprintf(err, errlen, "%s: %s", what, text[0] ? text : strerror(-a.error));
	return a.error < 0 ? a.error : 0;
}

void nlbatch_init(struct nlbatch *b, void (*on_error)(void *arg, size_t tag, int error, const char *err),
		  void *arg)
{
	b->len = 0;
	b->n = 0;
	b->failed = 0;
	b->on_error = on_error;
	b->arg = arg;
}

void nlbatch_add(struct nlbatch *b, const struct nlreq *q, const char *what, size_t tag)
{
	size_t len = NLMSG_ALIGN(q->h.nlmsg_len);

	if (b->n == NLBATCH_REQS || b->len + len > sizeof(b->buf))
		nlbatch_flush(b);
	memcpy(b->buf + b->len, q, q->h.nlmsg_len);
	memset(b->buf + b->len + q->h.nlmsg_len, 0, len - q->h.nlmsg_len);
	b->req[b->n].tag = tag;
	snprintf(b->req[b->n].what, sizeof(b->req[0].what), "%s", what);
	b->len += len;
	b->n++;
}

static void batch_fail(struct nlbatch *b, unsigned i, int error, const char *why)
{
	char err[384];

	snprintf(err, sizeof(err), "%s: %s", b->req[i].what, why && why[0] ? why : strerror(-error));
	b->failed++;
	if (b->on_error)
		b->on_error(b->arg, b->req[i].tag, error, err);
}

/* Reads the acks of requests first..first+n-1 (in order); the count that failed. */
static unsigned batch_acks(struct nlbatch *b, int fd, uint32_t first)
{
	char buf[16384];
	unsigned acked = 0, failed = 0;
	bool seen[NLBATCH_REQS] = { false };

	while (acked < b->n) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		int rem = (int)got;

		if (got < 0) {
			int e = -errno;

			if (errno == EINTR)
				continue;
			/* No ack in time, or acks lost: the rest are reported as failed. */
			nl_reset();
			for (unsigned i = 0; i < b->n; i++)
				if (!seen[i]) {
					batch_fail(b, i, e, NULL);
					failed++;
				}
			return failed;
		}
		if (fl < sizeof(from) || from.nl_pid != 0)
			continue;
		for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			char text[256] = "";
			struct ack a = { -EIO, text, sizeof(text) };
			uint32_t i = h->nlmsg_seq - first;

			if (i >= b->n || seen[i] || !on_ack(h, &a))
				continue;
			seen[i] = true;
			acked++;
			if (a.error < 0) {
				batch_fail(b, i, a.error, text);
				failed++;
			}
		}
	}
	return failed;
}

unsigned nlbatch_flush(struct nlbatch *b)
{
	int fd = nl_socket();
	uint32_t first = nl_seq + 1;
	unsigned failed = 0;

	if (!b->n)
		return 0;
	if (first == 0 || first + b->n < first)  /* seq 0 is no request's: wrap past it */
		nl_seq = 0, first = 1;
	for (size_t off = 0, i = 0; off < b->len; i++) {
		struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + off);

		h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		h->nlmsg_seq = first + (uint32_t)i;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	nl_seq = first + b->n - 1;
	if (fd < 0 || send(fd, b->buf, b->len, 0) < 0) {
		int e = -errno;

		for (unsigned i = 0; i < b->n; i++)
			batch_fail(b, i, e, NULL);
		failed = b->n;
	} else {
		failed = batch_acks(b, fd, first);
	}
	b->len = 0;
	b->n = 0;
	return failed;
}

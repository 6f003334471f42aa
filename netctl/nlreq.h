/* SPDX-License-Identifier: MIT */
/*
 * One rtnetlink request, built and sent: attributes (nested ones too) appended with their
 * lengths checked against the buffer, then sent with an ack asked for, the kernel's
 * extended-ack text becoming the error. netctl's own; rtnl.c and the link kinds use it.
 */
#ifndef BASALT_NETCTL_NLREQ_H
#define BASALT_NETCTL_NLREQ_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#define NLREQ_MAX 1024

struct nlreq {
	struct nlmsghdr h;
	unsigned char body[NLREQ_MAX];
};

/* A request of type with flags, its family header (hdrlen bytes, zeroed) returned. */
void *nlreq_init(struct nlreq *q, uint16_t type, uint16_t flags, size_t hdrlen);
/* Appends an attribute; 0, or -EMSGSIZE when it does not fit (the request is then unusable). */
int nlreq_put(struct nlreq *q, unsigned short type, const void *data, size_t len);
int nlreq_put_u8(struct nlreq *q, unsigned short type, uint8_t v);
int nlreq_put_u16(struct nlreq *q, unsigned short type, uint16_t v);
int nlreq_put_u32(struct nlreq *q, unsigned short type, uint32_t v);
int nlreq_put_str(struct nlreq *q, unsigned short type, const char *s);
/* Raw bytes (aligned), for the headers some nests carry before their attributes (a veth peer's ifinfomsg). */
int nlreq_raw(struct nlreq *q, const void *data, size_t len);
/* A nested attribute: opened (NULL when it does not fit), then closed once its members are in. */
struct rtattr *nlreq_nest(struct nlreq *q, unsigned short type);
void nlreq_nest_end(struct nlreq *q, struct rtattr *nest);
/* Sends q with an ack asked for; 0, or -errno with the reason in err ("<what>: <why>"). */
int nlreq_transact(struct nlreq *q, const char *what, char *err, size_t errlen);

/*
 * Many requests in one send: the kernel takes each in turn and acks each, so a thousand
 * addresses cost a few system calls, not two thousand, and one that fails does not stop
 * the rest. Requests go out when the batch is full and at nlbatch_flush; a failed one is
 * reported to on_error with its tag and "<what>: <why>".
 */
#define NLBATCH_REQS 128              /* requests per send: their acks fit the socket's buffer */
#define NLBATCH_BYTES (64 * 1024)

struct nlbatch {
	unsigned char buf[NLBATCH_BYTES];  /* the requests, back to back */
	size_t len;
	struct nlbatch_req {
		size_t tag;                     /* the caller's, handed back on failure */
		char what[128];                 /* the request described, for its error */
	} req[NLBATCH_REQS];
	unsigned n;
	void (*on_error)(void *arg, size_t tag, int error, const char *err);
	void *arg;
	unsigned failed;                   /* requests that failed since init */
};

void nlbatch_init(struct nlbatch *b, void (*on_error)(void *arg, size_t tag, int error, const char *err),
		  void *arg);
/* Queues a copy of q (sending the batch first when it is full). */
void nlbatch_add(struct nlbatch *b, const struct nlreq *q, const char *what, size_t tag);
/* Sends what is queued and reads every ack; the number of requests that failed in it. */
unsigned nlbatch_flush(struct nlbatch *b);

#endif

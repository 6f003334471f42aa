/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 (RFC 2131; options of RFC 2132, 3442 classless static routes, 3397 domain search,
 * 3396 long options), the mechanism: messages built and parsed, IPv4/UDP framing for a
 * packet socket, and the client's state machine driven by the caller's clock. No sockets
 * and no policy here: dhcp4sock.c moves the bytes, machined decides what a lease means.
 */
#ifndef BASALT_NETCTL_DHCP4_H
#define BASALT_NETCTL_DHCP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP4_DNS_MAX 4
#define DHCP4_NTP_MAX 4
#define DHCP4_ROUTES_MAX 16
#define DHCP4_SEARCH_MAX 6
#define DHCP4_NAME_MAX 254       /* a DNS name, NUL-terminated */
#define DHCP4_PACKET_MAX 1500    /* IPv4 + UDP + message: what we send and accept */

enum dhcp4_type {
	DHCP4_DISCOVER = 1, DHCP4_OFFER, DHCP4_REQUEST, DHCP4_DECLINE, DHCP4_ACK, DHCP4_NAK, DHCP4_RELEASE,
	DHCP4_INFORM,
};

struct dhcp4_route {
	uint8_t dst[4];         /* the destination's network; 0.0.0.0/0 for the default */
	unsigned prefix;
	uint8_t gw[4];          /* 0.0.0.0: on-link */
};

/* What a server offers or acknowledges. Times are seconds as sent (T1/T2 defaulted). */
struct dhcp4_lease {
	uint8_t addr[4];        /* yiaddr */
	uint8_t server[4];      /* the server identifier (54) */
	unsigned prefix;        /* from the subnet mask (1); 0 when the server sent none */
	struct dhcp4_route routes[DHCP4_ROUTES_MAX];  /* classless routes (121), else the router (3) as default */
	unsigned nroutes;
	uint8_t dns[DHCP4_DNS_MAX][4];
	unsigned ndns;
	uint8_t ntp[DHCP4_NTP_MAX][4];
	unsigned nntp;
	char hostname[64];      /* 12, "" when absent or not a DNS name */
	char domain[DHCP4_NAME_MAX];                  /* 15 */
	char search[DHCP4_SEARCH_MAX][DHCP4_NAME_MAX];  /* 119 */
	unsigned nsearch;
	unsigned mtu;           /* 26, 0 when absent */
	uint32_t lease_s, t1_s, t2_s;  /* 51, 58, 59; 0xffffffff is infinite */
};

/* A server's reply, parsed. */
struct dhcp4_reply {
	enum dhcp4_type type;
	uint32_t xid;
	uint8_t chaddr[6];
	struct dhcp4_lease lease;
	char message[128];      /* 56, a NAK's reason */
};

/* What the client asks. */
struct dhcp4_request {
	enum dhcp4_type type;   /* DISCOVER, REQUEST, RELEASE, DECLINE */
	uint32_t xid;
	uint16_t secs;
	uint8_t mac[6];
	uint8_t ciaddr[4];      /* a renewing/rebinding/releasing client's own address, else 0 */
	uint8_t requested[4];   /* 50, when has_requested */
	uint8_t server[4];      /* 54, when has_server */
	bool has_requested, has_server;
	const char *hostname;   /* 12, NULL or "" for none */
};

/* The message (BOOTP header, cookie, options) into buf; its length, or 0 when cap is too small. */
size_t dhcp4_build(uint8_t *buf, size_t cap, const struct dhcp4_request *q);
/*
 * Parses a server's message; 0, or -1 with why in err (not a reply, too short, no magic
 * cookie, an option that runs past its end, no message type...). Options that do not parse
 * are left out of the lease, never read past their bounds.
 */
int dhcp4_parse(const uint8_t *p, size_t n, struct dhcp4_reply *out, char *err, size_t errlen);

/* IPv4 + UDP (68 -> 67) around a message, checksums filled in; the length, or 0 when cap is too small. */
size_t dhcp4_frame(uint8_t *buf, size_t cap, const uint8_t src[4], const uint8_t dst[4], const uint8_t *msg,
		   size_t n);
/*
 * The message inside an IPv4 packet for UDP port 68: 0 with *msg and *n set, or -1 with why
 * (a fragment, another protocol or port, a bad length or checksum). check_udp false skips
 * the UDP checksum (a local sender's not yet computed one, as a packet socket reports it).
 */
int dhcp4_unframe(const uint8_t *pkt, size_t len, bool check_udp, const uint8_t **msg, size_t *n, char *err,
		  size_t errlen);

/* --- the client --- */

enum dhcp4_state { DHCP4_INIT, DHCP4_SELECTING, DHCP4_REQUESTING, DHCP4_BOUND, DHCP4_RENEWING, DHCP4_REBINDING };

/* What the caller does after a step: send a request (to the server, or broadcast), and/or act on the lease. */
enum dhcp4_event { DHCP4_EV_NONE, DHCP4_EV_BOUND, DHCP4_EV_RENEWED, DHCP4_EV_LOST };

struct dhcp4_action {
	bool send;
	bool broadcast;         /* else unicast to the lease's server */
	struct dhcp4_request req;
	enum dhcp4_event event; /* BOUND/RENEWED: apply c->lease; LOST: take it away */
};

struct dhcp4_client {
	enum dhcp4_state state;
	uint8_t mac[6];
	char hostname[64];      /* sent in option 12 when set */
	uint64_t rand;          /* xorshift state, seeded by the caller (xids, jitter) */
	uint32_t xid;
	uint64_t began_ms;      /* this exchange's start (the secs field) */
	uint64_t next_ms;       /* the next step's time: the caller calls dhcp4_tick then */
	unsigned tries;         /* sends in this state */
	struct dhcp4_lease offer, lease;
	bool has_lease;
	uint64_t bound_ms;      /* the lease's start: T1, T2 and expiry count from here */
	unsigned long naks, ignored;  /* replies refused by the server, replies not for us */
};

/* A client for mac, seeded; call dhcp4_tick at once to send the first DISCOVER. */
void dhcp4_init(struct dhcp4_client *c, const uint8_t mac[6], const char *hostname, uint64_t seed, uint64_t now_ms);
/* Time has reached c->next_ms: retransmit, move on to renew, rebind or expiry. */
void dhcp4_tick(struct dhcp4_client *c, uint64_t now_ms, struct dhcp4_action *a);
/* A parsed reply arrived. */
void dhcp4_input(struct dhcp4_client *c, const struct dhcp4_reply *r, uint64_t now_ms, struct dhcp4_action *a);
/* Gives up the lease: a RELEASE to send when there is one; the client is back at INIT. */
void dhcp4_release(struct dhcp4_client *c, struct dhcp4_action *a);
const char *dhcp4_state_name(enum dhcp4_state s);

#endif

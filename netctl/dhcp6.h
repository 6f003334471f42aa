/* SPDX-License-Identifier: MIT */
/*
 * DHCPv6 (RFC 8415), stateful addresses, the mechanism: messages built and parsed (client
 * and server identifiers, one IA_NA with its addresses, DNS servers and domain list of RFC
 * 3646, status codes), and the client's states on the caller's clock. No sockets here: the
 * caller sends to ff02::1:2 port 547 from port 546; machined decides what a lease means.
 * SLAAC stays the kernel's.
 */
#ifndef BASALT_NETCTL_DHCP6_H
#define BASALT_NETCTL_DHCP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP6_DUID_MAX 130
#define DHCP6_DNS_MAX 4
#define DHCP6_SEARCH_MAX 6
#define DHCP6_NAME_MAX 254
#define DHCP6_MSG_MAX 1500

enum dhcp6_type {
	DHCP6_SOLICIT = 1, DHCP6_ADVERTISE, DHCP6_REQUEST, DHCP6_CONFIRM, DHCP6_RENEW, DHCP6_REBIND, DHCP6_REPLY,
	DHCP6_RELEASE,
};

struct dhcp6_lease {
	uint8_t addr[16];           /* the IA_NA's first address with a valid lifetime */
	uint32_t preferred_s, valid_s;
	uint32_t t1_s, t2_s;        /* 0 in the message: defaulted from the preferred lifetime */
	uint8_t server_id[DHCP6_DUID_MAX];
	size_t server_id_len;
	uint8_t dns[DHCP6_DNS_MAX][16];
	unsigned ndns;
	char search[DHCP6_SEARCH_MAX][DHCP6_NAME_MAX];
	unsigned nsearch;
};

struct dhcp6_reply {
	enum dhcp6_type type;       /* ADVERTISE or REPLY */
	uint32_t xid;               /* 24 bits */
	uint8_t client_id[DHCP6_DUID_MAX];
	size_t client_id_len;
	unsigned status;            /* the message's status code (0: success) */
	unsigned ia_status;         /* the IA_NA's (NoAddrsAvail is 2) */
	bool has_addr;
	struct dhcp6_lease lease;
	char message[128];          /* the status message, when not success */
};

struct dhcp6_request {
	enum dhcp6_type type;       /* SOLICIT, REQUEST, RENEW, REBIND, RELEASE */
	uint32_t xid;
	uint16_t elapsed_cs;        /* hundredths of a second since the exchange began */
	const uint8_t *duid;
	size_t duid_len;
	uint32_t iaid;
	const uint8_t *server_id;   /* REQUEST, RENEW, RELEASE */
	size_t server_id_len;
	const uint8_t *addr;        /* the address held (REQUEST of an advertised one, RENEW, REBIND, RELEASE) */
};

/* The client's DUID-LL (type 3, Ethernet) for mac into duid[10]; its length. */
size_t dhcp6_duid_ll(uint8_t duid[10], const uint8_t mac[6]);
/* The message into buf; its length, or 0 when cap is too small. */
size_t dhcp6_build(uint8_t *buf, size_t cap, const struct dhcp6_request *q);
/* A server's message; 0, or -1 with why in err. Options that do not parse are left out. */
int dhcp6_parse(const uint8_t *p, size_t n, struct dhcp6_reply *out, char *err, size_t errlen);

/* --- the client --- */

enum dhcp6_state { DHCP6_INIT, DHCP6_SOLICITING, DHCP6_REQUESTING, DHCP6_BOUND, DHCP6_RENEWING, DHCP6_REBINDING };
enum dhcp6_event { DHCP6_EV_NONE, DHCP6_EV_BOUND, DHCP6_EV_RENEWED, DHCP6_EV_LOST };

struct dhcp6_action {
	bool send;                  /* always to ff02::1:2 */
	struct dhcp6_request req;
	enum dhcp6_event event;
};

struct dhcp6_client {
	enum dhcp6_state state;
	uint8_t duid[10];
	size_t duid_len;
	uint32_t iaid;
	uint64_t rand;
	uint32_t xid;
	uint64_t began_ms, next_ms;
	uint64_t rt_ms;             /* the retransmission timeout now (RFC 8415 15) */
	unsigned tries;
	struct dhcp6_lease offer, lease;
	bool has_lease;
	uint64_t bound_ms;
	unsigned long ignored;
};

void dhcp6_init(struct dhcp6_client *c, const uint8_t mac[6], uint32_t iaid, uint64_t seed, uint64_t now_ms);
void dhcp6_tick(struct dhcp6_client *c, uint64_t now_ms, struct dhcp6_action *a);
void dhcp6_input(struct dhcp6_client *c, const struct dhcp6_reply *r, uint64_t now_ms, struct dhcp6_action *a);
void dhcp6_release(struct dhcp6_client *c, struct dhcp6_action *a);
const char *dhcp6_state_name(enum dhcp6_state s);

#endif

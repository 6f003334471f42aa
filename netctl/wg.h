/* SPDX-License-Identifier: MIT */
/*
 * WireGuard devices: one data model, as wireguard-tools keeps it (a flag word says which
 * fields are set), and backends behind one ops table: the cross-platform userspace API
 * (wg_uapi.c: wireguard-go and any implementation that serves
 * /var/run/wireguard/<name>.sock) and the kernel's over generic netlink (wg_genl.c).
 *
 * A set carries only what changes: the device's own fields when their flags say so, and
 * the peers listed (each added, updated or removed by its flags); peers not listed are
 * left as they are unless WGD_REPLACE_PEERS. So a mesh that gains, loses or re-points one
 * peer sends one operation naming one peer, never the whole device.
 */
#ifndef BASALT_NETCTL_WG_H
#define BASALT_NETCTL_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN 32
#define WG_IFNAME_MAX 16
#define WG_PEER_IPS_MAX 192   /* allowed IPs per peer this model holds (a mesh peer: 1 + 64 + 64) */
#define WG_PEERS_MAX 65536

/* Which device fields a set carries (and a get filled in). */
enum {
	WGD_PRIVATE_KEY = 1u << 0,
	WGD_PUBLIC_KEY = 1u << 1,    /* get only */
	WGD_LISTEN_PORT = 1u << 2,
	WGD_FWMARK = 1u << 3,
	WGD_REPLACE_PEERS = 1u << 4, /* set: peers not listed are removed */
};

/* Which peer fields a set carries, and what to do with the peer. */
enum {
	WGP_REMOVE = 1u << 0,        /* remove this peer (nothing else of it is read) */
	WGP_UPDATE_ONLY = 1u << 1,   /* change it only if it exists, never add it */
	WGP_PRESHARED_KEY = 1u << 2,
	WGP_ENDPOINT = 1u << 3,
	WGP_KEEPALIVE = 1u << 4,
	WGP_REPLACE_IPS = 1u << 5,   /* the allowed IPs listed replace the peer's own */
};

struct wg_ip {
	uint8_t family;              /* 4 or 6 */
	uint8_t a[16];
	uint8_t cidr;
};

struct wg_endpoint {
	uint8_t family;              /* 0: none, 4 or 6 */
	uint8_t a[16];
	uint16_t port;
};

struct wg_peer {
	uint8_t pub[WG_KEY_LEN];
	uint32_t flags;              /* WGP_* */
	uint8_t psk[WG_KEY_LEN];
	struct wg_endpoint ep;
	uint16_t keepalive;          /* seconds, 0: off */
	size_t nips;
	struct wg_ip ips[WG_PEER_IPS_MAX];
	/* from a get */
	int64_t handshake_sec;       /* last handshake, wall clock; 0: never */
	int64_t handshake_nsec;
	uint64_t rx, tx;             /* bytes */
};

struct wg_device {
	char name[WG_IFNAME_MAX];
	uint32_t flags;              /* WGD_* */
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN];
	uint16_t port;
	uint32_t fwmark;
	size_t npeers, cap;
	struct wg_peer *peers;       /* owned: wg_device_fini frees (and zeroes the keys) */
};

void wg_device_init(struct wg_device *d, const char *name);
void wg_device_fini(struct wg_device *d);
/* A zeroed peer appended; NULL when memory ran out or WG_PEERS_MAX are held. */
struct wg_peer *wg_device_add_peer(struct wg_device *d, const uint8_t pub[WG_KEY_LEN]);

/* Shared by the backends: zeroes n bytes the compiler may not skip (keys); formats err and
 * returns rc; checks a device name (a path component under WG_UAPI_DIR: short, no slash,
 * not "." or ".."), 0 or -EINVAL with err. */
void wg_wipe(void *p, size_t n);
int wg_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int wg_check_name(const char *name, char *err, size_t errlen);
/* Whether a userspace daemon (wireguard-go) serves the device: WG_UAPI_DIR/<name>.sock is a socket. */
bool wg_uapi_serves(const char *name);

/* Operations a backend issued since start (a set or a get is one; the kernel's split messages count each). */
struct wg_counters {
	uint64_t sets, gets, messages;
};

struct wg_ops {
	const char *name;                      /* "kernel", "userspace" */
	/* Reads the device (keys, port, fwmark, every peer and its status) into d (initialised by the caller). */
	int (*get)(const char *ifname, struct wg_device *d, struct wg_counters *c, char *err, size_t errlen);
	/* Applies d as described above. 0 or -errno with err filled in. */
	int (*set)(const struct wg_device *d, struct wg_counters *c, char *err, size_t errlen);
};

extern const struct wg_ops wg_userspace, wg_kernel;

/* The kernel's messages (for tests and fuzzing): one WG_CMD_SET_DEVICE message of d into buf,
 * its peers from *next on as far as they fit (*next then names the first left for the next
 * message); -ENOSPC for a buffer too small for the header, -E2BIG for a peer alone too big. */
int wg_genl_format_set(const struct wg_device *d, uint16_t family, size_t *next, uint8_t *buf, size_t cap,
		       size_t *len);
/* One message's generic netlink payload (genlmsghdr and attributes) added to d: a dump's
 * message, or a set's; -EBADMSG with what was wrong in err. */
int wg_genl_parse(const uint8_t *msg, size_t n, struct wg_device *d, char *err, size_t errlen);

/* The userspace API: where its sockets live, and the socket of one device. */
#define WG_UAPI_DIR "/var/run/wireguard"
/* Formats d as one UAPI set request into out; -ENOSPC when cap is too small. Its length in *len. */
int wg_uapi_format_set(const struct wg_device *d, char *out, size_t cap, size_t *len);
/* Parses a UAPI get reply (through its blank line) into d; -EBADMSG with the line in err. */
int wg_uapi_parse_get(const char *text, size_t n, struct wg_device *d, char *err, size_t errlen);

#endif

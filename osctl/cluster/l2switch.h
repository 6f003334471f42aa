/* SPDX-License-Identifier: MIT */
/*
 * The rootless cluster network: a small learning Ethernet switch that osctl runs for a
 * local QEMU cluster. Each node's NIC is QEMU's `-netdev dgram` on a unix datagram socket
 * in the cluster's state folder (mode 0700: no other user can put a frame on it), and
 * the switch forwards each frame to the port its destination MAC was last seen on, or
 * floods it to every other port (broadcast, multicast, unknown). No root, no tap, no
 * bridge; every frame stays in unix sockets.
 *
 * The core (l2sw_*) decides where a frame goes and owns no socket, so it is unit-tested
 * and fuzzed alone; l2sw_serve runs it on unix datagram sockets.
 */
#ifndef BASALT_OSCTL_L2SWITCH_H
#define BASALT_OSCTL_L2SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define L2SW_PORTS 64           /* nodes on one segment */
#define L2SW_MACS 1024          /* MAC addresses learnt */
#define L2SW_AGE_MS 300000      /* a MAC not heard from for 5 minutes is forgotten */
#define L2SW_FRAME_MIN 14       /* destination, source, EtherType */
#define L2SW_FRAME_MAX 65550    /* a 64 KiB jumbo frame and its header */

struct l2sw_entry {
	uint8_t mac[6];
	uint8_t port;
	uint64_t seen_ms;
};

struct l2sw {
	size_t nports;
	struct l2sw_entry macs[L2SW_MACS];
	size_t nmacs;
	uint64_t frames, flooded, dropped;
};

void l2sw_init(struct l2sw *sw, size_t nports);
/*
 * A frame of len bytes came in on port from at now_ms: learns its source and sets out[p]
 * for each port it goes to. The number of ports it goes to (0: dropped: too short or too
 * long, a multicast source, from a port the switch has not, or its destination is on the
 * port it came from).
 */
size_t l2sw_route(struct l2sw *sw, size_t from, const uint8_t *frame, size_t len, uint64_t now_ms,
		  bool out[L2SW_PORTS]);

/*
 * Serves the switch: binds DIR/switch.sock, takes frames from DIR/node-<i>.sock (i from
 * 0 to nports - 1: the ports, in that order) and sends them on, until SIGTERM or SIGINT.
 * 0 at a signal, or -1 with err.
 */
int l2sw_serve(const char *dir, size_t nports, char *err, size_t errlen);

#endif

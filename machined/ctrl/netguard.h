/* SPDX-License-Identifier: MIT */
/*
 * Whether machined may change the links, addresses and routes of the network namespace it
 * runs in. On a real machine (init's BASALT_MACHINE) it may. Anywhere else it must not
 * when the namespace is a host's own: the one host_netns names ("dev:inode", from the
 * launchers that know it: machined --host-netns), that of the PID 1 it can see when that is not its own init,
 * or one that holds a link backed by a device (a bus such as pci or virtio behind it:
 * containers and the namespaces tests make hold only virtual links).
 */
#ifndef BASALT_CTRL_NETGUARD_H
#define BASALT_CTRL_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>

/* NULL when allowed, else why not (in buf). */
const char *netguard_check(bool machine, const char *host_netns, char *buf, size_t len);

#endif

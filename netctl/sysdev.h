/* SPDX-License-Identifier: MIT */
/*
 * What sysfs says of the device behind a link: its driver and, on PCI, its vendor and
 * device IDs. The device is found by its bus and name (rtnetlink's IFLA_PARENT_DEV_BUS_NAME
 * and IFLA_PARENT_DEV_NAME) under /sys/bus, which names it the same from every network
 * namespace, never by the link's name under /sys/class/net (another namespace's link of
 * that name may be there).
 */
#ifndef BASALT_NETCTL_SYSDEV_H
#define BASALT_NETCTL_SYSDEV_H

#include <stddef.h>

struct sysdev {
	char driver[64];   /* the bound driver ("virtio_net", "e1000e"), "" when none */
	char pci_id[16];   /* "1AF4:1000": of the device, or of the PCI device it sits on; "" off PCI */
};

/* Reads under sysfs ("/sys"); 0 (fields it could not find left ""), or -EINVAL for a name
 * that is not one device's (empty, ".", "..", with a '/'). */
int sysdev_read(const char *sysfs, const char *bus, const char *dev, struct sysdev *out);

#endif

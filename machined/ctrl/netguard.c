/* SPDX-License-Identifier: MIT */
/* The guard on changing a host's network (see netguard.h). */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machined/ctrl/netguard.h"
#include "netctl/rtnl.h"

struct found {
	char *buf;
	size_t len;
	bool hit;
};

static int device_link(void *arg, const struct nlmsghdr *h)
{
	struct found *f = arg;
	struct rtnl_link l;

	if (!f->hit && rtnl_parse_link(h, &l) == 0 && l.bus[0]) {
		snprintf(f->buf, f->len,
			 "the network here is a host's (link %s is a %s device): machined changes no link, address "
			 "or route outside a machine or a network namespace of its own", l.name, l.bus);
		f->hit = true;
	}
	return 0;
}

const char *netguard_check(bool machine, const char *host, char *buf, size_t len)
{
	struct stat self, other;
	unsigned long dev, ino;
	struct found f = { buf, len, false };

	if (machine)
		return NULL;
	if (stat("/proc/self/ns/net", &self) < 0) {
		snprintf(buf, len, "cannot tell whose network namespace this is: /proc/self/ns/net: %s", strerror(errno));
		return buf;
	}
	if (host && sscanf(host, "%lu:%lu", &dev, &ino) == 2 && dev == self.st_dev && ino == self.st_ino) {
		snprintf(buf, len, "the network here is the host's (--host-netns): machined changes no link, "
			 "address or route outside a machine or a network namespace of its own");
		return buf;
	}
	/* Seen from outside a PID namespace of its own, PID 1 is the host's. */
	if (getppid() != 1 && stat("/proc/1/ns/net", &other) == 0 && other.st_dev == self.st_dev &&
	    other.st_ino == self.st_ino) {
		snprintf(buf, len, "the network here is that of the host's PID 1: machined changes no link, address "
			 "or route outside a machine or a network namespace of its own");
		return buf;
	}
	rtnl_dump(RTM_GETLINK, device_link, &f);
	return f.hit ? buf : NULL;
}

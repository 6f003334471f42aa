/* SPDX-License-Identifier: MIT */
#include "netctl/sysdev.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool one_name(const char *s)
{
	return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') && strlen(s) < 128;
}

/* A sysfs attribute holding one hex number ("0x1af4\n"); -1 when there is none. */
static long hex_attr(const char *dir, const char *name)
{
	char path[PATH_MAX + 16], buf[32], *end;
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "re")))
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	v = strtol(buf, &end, 16);
	return end != buf && v >= 0 && v <= 0xffff ? v : -1;
}

/* "0000:00:03.0": a PCI device's own folder name. */
static bool pci_name(const char *s)
{
	unsigned d, b, s2, f;
	char tail;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &s2, &f, &tail) == 4;
}

/* The IDs of the device at path, or of the first PCI device above it (a virtio device's). */
static void pci_id(char *path, struct sysdev *out)
{
	for (char *slash; (slash = strrchr(path, '/')) && slash != path; *slash = '\0') {
		long vendor, device;

		if (!pci_name(slash + 1))
			continue;
		vendor = hex_attr(path, "vendor");
		device = hex_attr(path, "device");
		if (vendor >= 0 && device >= 0)
			snprintf(out->pci_id, sizeof(out->pci_id), "%04lX:%04lX", vendor, device);
		return;
	}
}

int sysdev_read(const char *sysfs, const char *bus, const char *dev, struct sysdev *out)
{
	char path[PATH_MAX], link[PATH_MAX], real[PATH_MAX];
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (!one_name(bus) || !one_name(dev))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/%s/devices/%s", sysfs, bus, dev) >= sizeof(path) - 8)
		return -ENAMETOOLONG;
	memcpy(link, path, strlen(path) + 1);
	strcat(link, "/driver");
	if ((n = readlink(link, real, sizeof(real) - 1)) > 0) {
		const char *base;

		real[n] = '\0';
		base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
		if (strlen(base) < sizeof(out->driver))
			memcpy(out->driver, base, strlen(base) + 1);
	}
	if (realpath(path, real))
		pci_id(real, out);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line: the basalt.* keys and the kernel's ip=. Unknown keys are ignored;
 * a malformed value is reported through the callback and the key keeps its default.
 */
#ifndef BASALT_CMDLINE_H
#define BASALT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

enum platform {
	PLATFORM_UNSET = 0,
	PLATFORM_METAL,
	PLATFORM_NOCLOUD,
	PLATFORM_OPENSTACK,
	PLATFORM_QEMU,
	PLATFORM_AWS,
	PLATFORM_CONTAINER,
};

struct cmdline {
	char *config_url;        /* basalt.config=<http(s) url>, or NULL */
	enum platform platform;  /* basalt.platform= */
	bool debug;              /* basalt.debug=1 */
	bool maintenance;        /* basalt.maintenance=1: the installed config is not used */
	bool from_disk;          /* basalt.boot=disk: booted from the system disk (its GRUB says
				  * so), whose STATE and EPHEMERAL machined mounts; else from
				  * media (ISO, PXE), running from memory */
	char *ip;                /* ip=..., raw; the network layer parses it */
	char *install_source;    /* basalt.install.source=<http url>: where a PXE-booted machine
				  * gets the boot medium's files to install from (osctl pxe serve's
				  * /install/), or NULL */
};

/* key is the key as written; msg says what is wrong with its value. */
typedef void cmdline_report_fn(void *arg, const char *key, const char *value, const char *msg);

/* Parses text into out (zeroed first). Returns 0, or -ENOMEM. Caller frees with cmdline_fini. */
int cmdline_parse(const char *text, struct cmdline *out, cmdline_report_fn *report, void *arg);
/* Reads and parses a file holding a command line (normally /proc/cmdline). */
int cmdline_read(const char *path, struct cmdline *out, cmdline_report_fn *report, void *arg);
void cmdline_fini(struct cmdline *c);
const char *platform_name(enum platform p);

#endif

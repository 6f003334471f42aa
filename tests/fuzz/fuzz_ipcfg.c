/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line's ip= value (netctl/ipcfg.c): any bytes up to the first NUL, in a
 * buffer of exactly that size. A parse either fails with a message or gives NUL-terminated
 * names and a prefix length the family allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netctl/ipcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	struct ipcfg c;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (ipcfg_parse(s, &c, err, sizeof(err)) == 0) {
		if (!memchr(c.hostname, '\0', sizeof(c.hostname)) || !memchr(c.device, '\0', sizeof(c.device)) ||
		    !memchr(c.autoconf, '\0', sizeof(c.autoconf)) || !c.autoconf[0])
			abort();
		if ((c.family == AF_INET && c.prefixlen > 32) || c.prefixlen > 128)
			abort();
	} else if (!err[0]) {
		abort();
	}
	free(s);
	return 0;
}

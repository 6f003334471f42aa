/* SPDX-License-Identifier: MIT */
/* Checks and parsers for the values people write in configs: addresses, names, durations. */
#ifndef BASALT_PARSE_H
#define BASALT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipaddr {
	int family;         /* AF_INET or AF_INET6 */
	uint8_t addr[16];   /* network order; 4 bytes used for AF_INET */
};

/* "10.0.0.1" or "fd00::1". */
bool parse_ip(const char *s, struct ipaddr *out);
/* "10.0.0.1/24" or "fd00::/64": the prefix length fits the family. */
bool parse_cidr(const char *s, struct ipaddr *out, unsigned *prefix);
/* Whether ip lies in net/len (both of one family). */
bool ip_in_prefix(const struct ipaddr *ip, const struct ipaddr *net, unsigned len);
/* "aa:bb:cc:dd:ee:ff"; with glob true, any hex digit may be * or ? ("00:50:56:*"). */
bool parse_mac(const char *s, bool glob);
/* "aa:bb:cc:dd:ee:ff" (no globs) into its six bytes. */
bool parse_hwaddr(const char *s, uint8_t out[6]);
/* Go-style durations: "90s", "1h30m", "500ms", "2m0s"; into milliseconds. */
bool parse_duration_ms(const char *s, uint64_t *ms);
/* Human sizes: "4GB", "100 GiB", "512M", "1TB" (decimal for kB/MB/GB/TB, binary for KiB...). */
bool parse_size(const char *s, uint64_t *bytes);
/* A DNS name: dot-separated labels of letters, digits and inner hyphens, 63/253 limits. */
bool valid_hostname(const char *s);
/* A Linux link name: 1 to 15 bytes, no '/', ':' or whitespace, not "." or "..". */
bool valid_ifname(const char *s);

struct url {
	char scheme[16];
	char host[256];  /* without brackets for IPv6 */
	unsigned port;   /* 0 when absent */
	const char *path;  /* points into the parsed string; "" when absent */
};
/* scheme://host[:port][/path]; the host must be an IP or a DNS name. */
bool parse_url(const char *s, struct url *out);
/* host:port, host a DNS name, an IPv4 address or a bracketed IPv6 address. */
bool parse_hostport(const char *s, char *host, size_t hostlen, unsigned *port);
/* host or host:port (an IPv6 host bracketed: [::1] or [::1]:50001); *port is 0 when absent. */
bool parse_host_opt_port(const char *s, char *host, size_t hostlen, unsigned *port);

#endif

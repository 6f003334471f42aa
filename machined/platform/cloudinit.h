/* SPDX-License-Identifier: MIT */
/*
 * What cloud-style platforms hand a machine, parsed (machined/platform/cloudinit.c): the
 * NoCloud meta-data (YAML or JSON: instance-id, local-hostname) and network-config
 * (versions 1 and 2, as a machine config's network section), and an OpenStack config
 * drive's meta_data.json and network_data.json. Lenient as cloud-init is:
 * keys not known here are left alone; a document that does not parse is an error naming
 * where.
 */
#ifndef BASALT_CLOUDINIT_H
#define BASALT_CLOUDINIT_H

#include <stddef.h>

#include "api/config.pb-c.h"
#include "machined/platform/platform.h"

#define CLOUDINIT_DOC_MAX (64u << 10)

/* Fills md's hostname and instance id from meta-data text. 0, or -1 with err. */
int cloudinit_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err, size_t errlen);

/*
 * network-config (version 1 or 2, at the top or under network:) as a machine config's
 * machine.network: each physical link or ethernet by MAC (a device selector) or by name,
 * its addresses, gateways, routes, MTU and DHCP, and the name servers and search domains.
 * What this release does not apply (bonds, VLANs, set-name, ...) is listed in gaps. 0 with
 * *out (free with protobuf_c_message_free_unpacked), or -1 with err (an address, route or
 * MAC that does not parse: nothing of it is used).
 */
int cloudinit_network_parse(const char *text, size_t len, Basalt__Config__Network **out, char *gaps, size_t gapslen,
			    char *err, size_t errlen);

/* OpenStack's meta_data.json (a config drive's): uuid, hostname (else name), availability_zone. */
int cloudinit_openstack_meta_parse(const char *text, size_t len, struct platform_metadata *md, char *err,
				   size_t errlen);

/*
 * OpenStack's network_data.json as a machine.network: each link with a MAC (a device
 * selector; bonds and VLANs are gaps), its MTU; ipv4 and ipv6 networks as addresses (a
 * netmask or a prefix) with their routes, ipv4_dhcp and ipv6_dhcp as DHCP on the link; DNS
 * services as name servers. As cloudinit_network_parse otherwise.
 */
int cloudinit_openstack_network_parse(const char *text, size_t len, Basalt__Config__Network **out, char *gaps,
				      size_t gapslen, char *err, size_t errlen);

/*
 * The EC2 instance metadata service (IMDS): the meta-data read, each path's reply one
 * value (text, trailing blanks cut) checked for what it is: an id or a region (printable,
 * no blanks), a host name, an address.
 */
enum imds_field {
	IMDS_INSTANCE_ID, IMDS_INSTANCE_TYPE, IMDS_HOSTNAME, IMDS_REGION, IMDS_ZONE, IMDS_PUBLIC_IPV4, IMDS_IPV6,
	IMDS_NFIELDS
};
/* Each field's path: "/latest/meta-data/instance-id", ... */
extern const char *const imds_paths[IMDS_NFIELDS];
/* The reply to field's path into md. 0, or -1 with err naming the field and why (md unchanged). */
int imds_value(enum imds_field field, const char *body, size_t len, struct platform_metadata *md, char *err,
	       size_t errlen);
#define IMDS_TOKEN_MAX 256
/* The reply to the token PUT: a token (base64 characters, at most IMDS_TOKEN_MAX) into out. */
int imds_token(const char *body, size_t len, char out[IMDS_TOKEN_MAX + 1], char *err, size_t errlen);

/*
 * The container platform's machine config: USERDATA (base64) in an environment block
 * (NUL-separated KEY=value entries, as /proc/PID/environ holds them; the first one, as
 * getenv finds it).
 * 1 with *out (NUL-terminated, free it) when there is one, 0 when there is none, -1 with
 * err when it is empty, too long or not base64.
 */
#define CONTAINER_USERDATA_MAX (1u << 20)
int container_userdata(const char *env, size_t len, char **out, size_t *outlen, char *err, size_t errlen);

#endif

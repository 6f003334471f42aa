/* SPDX-License-Identifier: MIT */
#include "lib/apidef.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/machine.pb-c.h"
#include "api/resource.pb-c.h"
#include "api/security.pb-c.h"

#define MS "/basalt.machine.MachineService/"
#define RS "/basalt.resource.ResourceService/"
#define SS "/basalt.security.SecurityService/"

#define M(id, svc, name, role, maint, stream, trustd, req, resp) \
	[API_##id] = { svc name, name, role, maint, stream, trustd, &req##__descriptor, &resp##__descriptor }

/* The RBAC table: README.md's copy must match (tests/api checks every row). */
const struct api_method api_methods[API_NMETHODS] = {
	M(VERSION, MS, "Version", ROLE_READER, true, false, false,
	  basalt__machine__version_request, basalt__machine__version_response),
	M(APPLY_CONFIGURATION, MS, "ApplyConfiguration", ROLE_ADMIN, true, false, false,
	  basalt__machine__apply_configuration_request, basalt__machine__apply_configuration_response),
	M(SERVICE_LIST, MS, "ServiceList", ROLE_READER, false, false, false,
	  basalt__machine__service_list_request, basalt__machine__service_list_response),
	M(SERVICE_START, MS, "ServiceStart", ROLE_OPERATOR, false, false, false,
	  basalt__machine__service_request, basalt__machine__service_action_response),
	M(SERVICE_STOP, MS, "ServiceStop", ROLE_OPERATOR, false, false, false,
	  basalt__machine__service_request, basalt__machine__service_action_response),
	M(SERVICE_RESTART, MS, "ServiceRestart", ROLE_OPERATOR, false, false, false,
	  basalt__machine__service_request, basalt__machine__service_action_response),
	M(LOGS, MS, "Logs", ROLE_READER, false, true, false, basalt__machine__logs_request, basalt__machine__data),
	M(DMESG, MS, "Dmesg", ROLE_READER, false, true, false, basalt__machine__dmesg_request, basalt__machine__data),
	M(REBOOT, MS, "Reboot", ROLE_OPERATOR, false, false, false,
	  basalt__machine__reboot_request, basalt__machine__reboot_response),
	M(SHUTDOWN, MS, "Shutdown", ROLE_OPERATOR, false, false, false,
	  basalt__machine__shutdown_request, basalt__machine__shutdown_response),
	/* Read is os:admin, as in Talos: files under /var hold secrets (kubelet's and etcd's
	 * keys, the pods' secret volumes) that os:operator must not reach. */
	M(READ, MS, "Read", ROLE_ADMIN, false, true, false, basalt__machine__read_request, basalt__machine__data),
	M(FILE_LIST, MS, "List", ROLE_OPERATOR, false, true, false,
	  basalt__machine__list_request, basalt__machine__file_info),
	M(RESET, MS, "Reset", ROLE_ADMIN, false, false, false, basalt__machine__reset_request,
	  basalt__machine__reset_response),
	M(GET, RS, "Get", ROLE_READER, false, false, false, basalt__resource__get_request, basalt__resource__get_response),
	M(LIST, RS, "List", ROLE_READER, false, true, false, basalt__resource__list_request, basalt__resource__resource),
	M(WATCH, RS, "Watch", ROLE_READER, false, true, false,
	  basalt__resource__watch_request, basalt__resource__watch_event),
	M(CERTIFICATE, SS, "Certificate", ROLE_NONE, false, false, true,
	  basalt__security__certificate_request, basalt__security__certificate_response),
};
const size_t api_nmethods = sizeof(api_methods) / sizeof(api_methods[0]);

const struct api_method *api_method_find(const char *path)
{
	for (size_t i = 0; i < api_nmethods; i++)
		if (strcmp(api_methods[i].path, path) == 0)
			return &api_methods[i];
	return NULL;
}

int api_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, uint16_t def)
{
	const char *colon = strrchr(s, ':');
	unsigned long p = def;
	size_t hl = strlen(s);

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (e[1] != ':' && e[1] != '\0'))
			return -1;  /* "[v6]junk" */
		hl = (size_t)(e - s - 1);
		s++;
		colon = e[1] == ':' ? e + 1 : NULL;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL;  /* a bare IPv6 address */
	} else if (colon) {
		hl = (size_t)(colon - s);
	}
	if (colon) {
		const char *d = colon + 1;

		/* 1-5 digits and nothing else (strtoul would take a sign, blanks or 60 zeros). */
		if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 5)
			return -1;
		p = strtoul(d, NULL, 10);
		if (p > 65535)
			return -1;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int api_parse_nodes(const char *list, char out[][API_NODE_LEN], size_t max, size_t *n, char *err,
		    size_t errlen)
{
	char buf[API_NODES_MAX + 1], *save = NULL, host[API_NODE_LEN];
	size_t len = strlen(list);

	*n = 0;
	if (len > API_NODES_MAX) {
		snprintf(err, errlen, "nodes: %zu bytes, more than %d", len, API_NODES_MAX);
		return -1;
	}
	memcpy(buf, list, len + 1);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned char addr[16];
		uint16_t port;

		if (*n == max) {
			snprintf(err, errlen, "nodes: more than %zu nodes", max);
			return -1;
		}
		if (strlen(tok) >= API_NODE_LEN || api_parse_hostport(tok, host, sizeof(host), &port, API_PORT) < 0 ||
		    port == 0 || inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, addr) != 1) {
			snprintf(err, errlen, "nodes: %.100s is not an IP address (with an optional port)", tok);
			return -1;
		}
		for (size_t i = 0; i < *n; i++)
			if (strcmp(out[i], tok) == 0) {
				snprintf(err, errlen, "nodes: %.100s is named twice", tok);
				return -1;
			}
		snprintf(out[(*n)++], API_NODE_LEN, "%s", tok);
	}
	if (*n == 0) {
		snprintf(err, errlen, "nodes: no node named");
		return -1;
	}
	return 0;
}

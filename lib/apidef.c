/* SPDX-License-Identifier: MIT */
#include "lib/apidef.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS "/basalt.machine.MachineService/"
#define RS "/basalt.resource.ResourceService/"

/* The RBAC table: README.md's copy must match (tests/api checks every row). */
const struct api_method api_methods[] = {
	{ MS "Version", "Version", ROLE_READER, true, false },
	{ MS "ApplyConfiguration", "ApplyConfiguration", ROLE_ADMIN, true, false },
	{ MS "ServiceList", "ServiceList", ROLE_READER, false, false },
	{ MS "ServiceStart", "ServiceStart", ROLE_OPERATOR, false, false },
	{ MS "ServiceStop", "ServiceStop", ROLE_OPERATOR, false, false },
	{ MS "ServiceRestart", "ServiceRestart", ROLE_OPERATOR, false, false },
	{ MS "Logs", "Logs", ROLE_READER, false, true },
	{ MS "Dmesg", "Dmesg", ROLE_READER, false, true },
	{ MS "Reboot", "Reboot", ROLE_OPERATOR, false, false },
	{ MS "Shutdown", "Shutdown", ROLE_OPERATOR, false, false },
	{ RS "Get", "Get", ROLE_READER, false, false },
	{ RS "List", "List", ROLE_READER, false, true },
	{ RS "Watch", "Watch", ROLE_READER, false, true },
};
const size_t api_nmethods = sizeof(api_methods) / sizeof(api_methods[0]);

const struct api_method *api_method_find(const char *path)
{
	for (size_t i = 0; i < api_nmethods; i++)
		if (strcmp(api_methods[i].path, path) == 0)
			return &api_methods[i];
	return NULL;
}

const struct api_restype api_restypes[] = {
	{ "config", "MachineConfig", { "machineconfig", "mc", "config" }, true },
	{ "runtime", "ConfigStatus", { "configstatus", "configstatuses" }, false },
	{ "runtime", "MachineStatus", { "machinestatus", "ms" }, false },
	{ "runtime", "Service", { "services", "service", "svc" }, false },
	{ "runtime", "ServiceSpec", { "servicespecs", "servicespec" }, false },
	{ "runtime", "Version", { "version", "versions" }, false },
	{ "runtime", "ControllerStatus", { "controllerstatuses", "controllers", "cs" }, false },
	{ "network", "HostnameSpec", { "hostnamespec", "hostnamespecs" }, false },
	{ "network", "HostnameStatus", { "hostname", "hostnames", "hostnamestatus" }, false },
	{ "network", "LinkStatus", { "links", "link", "linkstatus" }, false },
	{ "network", "AddressStatus", { "addresses", "address", "addressstatus" }, false },
	{ "network", "RouteStatus", { "routes", "route", "routestatus" }, false },
	{ "secrets", "ApiCertificate", { "apicertificate", "apicert" }, false },
	{ "cluster", "Member", { "members", "member" }, false },
};
const size_t api_nrestypes = sizeof(api_restypes) / sizeof(api_restypes[0]);

const struct api_restype *api_restype_find(const char *name)
{
	for (size_t i = 0; i < api_nrestypes; i++) {
		const struct api_restype *t = &api_restypes[i];

		if (strcasecmp(t->type, name) == 0)
			return t;
		for (size_t j = 0; j < 4 && t->aliases[j]; j++)
			if (strcasecmp(t->aliases[j], name) == 0)
				return t;
	}
	return NULL;
}

int api_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, uint16_t def)
{
	const char *colon = strrchr(s, ':');
	unsigned long p = def;
	size_t hl = strlen(s);

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e)
			return -1;
		hl = (size_t)(e - s - 1);
		s++;
		colon = e[1] == ':' ? e + 1 : NULL;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL;  /* a bare IPv6 address */
	} else if (colon) {
		hl = (size_t)(colon - s);
	}
	if (colon) {
		char *end;

		p = strtoul(colon + 1, &end, 10);
		if (*end || p > 65535)
			return -1;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "lib/restypes.h"

#include <string.h>
#include <strings.h>

#include "api/block.pb-c.h"
#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "api/runtime.pb-c.h"
#include "api/secrets.pb-c.h"

#define ROW(id, n, t, d, ...) [RES_##id] = { RES_##id, n, t, &d, __VA_ARGS__ }

const struct res_type res_types[RES_NTYPES] = {
	ROW(DISK, "block", "Disk", basalt__block__disk__descriptor, { "disks", "disk" }, false,
	    { { "SIZE", "prettySize" }, { "TRANSPORT", "transport" }, { "TYPE", "type" }, { "MODEL", "model" } }),
	ROW(MOUNT_STATUS, "block", "MountStatus", basalt__block__mount_status__descriptor,
	    { "mounts", "mount", "mountstatus", "mountstatuses" }, false,
	    { { "SOURCE", "source" }, { "TYPE", "filesystemType" }, { "READ ONLY", "readOnly" }, { "VOLUME", "volume" } }),
	ROW(VOLUME, "block", "Volume", basalt__block__volume__descriptor, { "volumes", "volume", "vol" }, false,
	    { { "PHASE", "phase" }, { "DEVICE", "devPath" }, { "SIZE", "prettySize" }, { "MOUNT", "mountPoint" } }),
	ROW(MACHINE_CONFIG, "config", "MachineConfig", basalt__config__config__descriptor,
	    { "machineconfig", "mc", "config" }, true),
	ROW(ADDRESS_SPEC, "network", "AddressSpec", basalt__network__address_spec__descriptor,
	    { "addressspecs", "addressspec" }, false,
	    { { "ADDRESS", "address" }, { "LINK", "linkName" }, { "LAYER", "layer" } }),
	ROW(ADDRESS_STATUS, "network", "AddressStatus", basalt__network__address_status__descriptor,
	    { "addresses", "address", "addressstatus" }, false,
	    { { "ADDRESS", "address" }, { "LINK", "linkName" }, { "SCOPE", "scope" } }),
	ROW(HOSTNAME_SPEC, "network", "HostnameSpec", basalt__network__hostname_spec__descriptor,
	    { "hostnamespec", "hostnamespecs" }, false, { { "HOSTNAME", "hostname" }, { "LAYER", "layer" } }),
	ROW(HOSTNAME_STATUS, "network", "HostnameStatus", basalt__network__hostname_status__descriptor,
	    { "hostname", "hostnames", "hostnamestatus" }, false,
	    { { "HOSTNAME", "hostname" }, { "DOMAINNAME", "domainname" } }),
	ROW(LINK_SPEC, "network", "LinkSpec", basalt__network__link_spec__descriptor,
	    { "linkspecs", "linkspec" }, false,
	    { { "NAME", "name" }, { "UP", "up" }, { "MTU", "mtu" }, { "LAYER", "layer" } }),
	ROW(LINK_STATUS, "network", "LinkStatus", basalt__network__link_status__descriptor,
	    { "links", "link", "linkstatus" }, false,
	    { { "TYPE", "type" }, { "KIND", "kind" }, { "HW ADDR", "hardwareAddr" }, { "OPER STATE", "operationalState" } }),
	ROW(NODE_ADDRESS, "network", "NodeAddress", basalt__network__node_address__descriptor,
	    { "nodeaddresses", "nodeaddress", "nodeaddr" }, false, { { "ADDRESSES", "addresses" } }),
	ROW(OPERATOR_SPEC, "network", "OperatorSpec", basalt__network__operator_spec__descriptor,
	    { "operatorspecs", "operatorspec" }, false,
	    { { "OPERATOR", "operator" }, { "LINK", "linkName" }, { "LAYER", "layer" } }),
	ROW(OPERATOR_STATUS, "network", "OperatorStatus", basalt__network__operator_status__descriptor,
	    { "operators", "operator", "operatorstatus", "dhcp" }, false,
	    { { "STATE", "state" }, { "ADDRESS", "address" }, { "SERVER", "server" }, { "DROPPED", "dropped" } }),
	ROW(RESOLVER_SPEC, "network", "ResolverSpec", basalt__network__resolver_spec__descriptor,
	    { "resolverspecs", "resolverspec" }, false,
	    { { "SERVERS", "dnsServers" }, { "SEARCH", "searchDomains" }, { "LAYER", "layer" } }),
	ROW(RESOLVER_STATUS, "network", "ResolverStatus", basalt__network__resolver_status__descriptor,
	    { "resolvers", "resolver", "resolverstatus" }, false,
	    { { "SERVERS", "dnsServers" }, { "SEARCH", "searchDomains" }, { "LAYER", "layer" } }),
	ROW(ROUTE_SPEC, "network", "RouteSpec", basalt__network__route_spec__descriptor,
	    { "routespecs", "routespec" }, false,
	    { { "DESTINATION", "destination" }, { "GATEWAY", "gateway" }, { "LINK", "linkName" }, { "LAYER", "layer" } }),
	ROW(ROUTE_STATUS, "network", "RouteStatus", basalt__network__route_status__descriptor,
	    { "routes", "route", "routestatus" }, false,
	    { { "DESTINATION", "destination" }, { "GATEWAY", "gateway" }, { "LINK", "linkName" }, { "METRIC", "metric" } }),
	ROW(TIMESERVER_SPEC, "network", "TimeServerSpec", basalt__network__time_server_spec__descriptor,
	    { "timeserverspecs", "timeserverspec" }, false, { { "SERVERS", "servers" }, { "LAYER", "layer" } }),
	ROW(TIMESERVER_STATUS, "network", "TimeServerStatus", basalt__network__time_server_status__descriptor,
	    { "timeservers", "timeserver", "timeserverstatus" }, false,
	    { { "SERVERS", "servers" }, { "LAYER", "layer" } }),
	ROW(TIME_STATUS, "network", "TimeStatus", basalt__network__time_status__descriptor,
	    { "timestatus", "time" }, false,
	    { { "SYNCED", "synced" }, { "SERVER", "server" }, { "OFFSET NS", "offsetNs" }, { "ERROR", "error" } }),
	ROW(WIREGUARD_STATUS, "network", "WireguardStatus", basalt__network__wireguard_status__descriptor,
	    { "wireguard", "wireguardstatus", "wg" }, false,
	    { { "BACKEND", "backend" }, { "PUBLIC KEY", "publicKey" }, { "PORT", "listenPort" }, { "SETS", "sets" } }),
	ROW(CONFIG_STATUS, "runtime", "ConfigStatus", basalt__runtime__config_status__descriptor,
	    { "configstatus", "configstatuses" }, false, { { "STATE", "state" }, { "SOURCE", "source" } }),
	ROW(CONTROLLER_STATUS, "runtime", "ControllerStatus", basalt__runtime__controller_status__descriptor,
	    { "controllerstatuses", "controllers", "cs" }, false,
	    { { "HEALTHY", "healthy" }, { "RUNS", "runs" }, { "FAILURES", "failures" } }),
	ROW(FILE_STATUS, "runtime", "FileStatus", basalt__runtime__file_status__descriptor,
	    { "filestatus", "files", "filestatuses" }, false,
	    { { "OP", "op" }, { "STATE", "state" }, { "SIZE", "size" }, { "MESSAGE", "message" } }),
	ROW(INSTALL_STATUS, "runtime", "InstallStatus", basalt__runtime__install_status__descriptor,
	    { "installstatus", "install" }, false, { { "STATE", "state" }, { "DISK", "disk" }, { "MESSAGE", "message" } }),
	ROW(MACHINE_STATUS, "runtime", "MachineStatus", basalt__runtime__machine_status__descriptor,
	    { "machinestatus", "ms" }, false, { { "STAGE", "stage" } }),
	ROW(PLATFORM_METADATA, "runtime", "PlatformMetadata", basalt__runtime__platform_metadata__descriptor,
	    { "platformmetadata", "platform" }, false,
	    { { "PLATFORM", "platform" }, { "HOSTNAME", "hostname" }, { "INSTANCE ID", "instanceId" } }),
	ROW(SERVICE, "runtime", "Service", basalt__runtime__service__descriptor,
	    { "services", "service", "svc" }, false,
	    { { "STATE", "state" }, { "HEALTHY", "healthy" }, { "RESTARTS", "restarts" } }),
	ROW(SERVICE_SPEC, "runtime", "ServiceSpec", basalt__runtime__service_spec__descriptor,
	    { "servicespecs", "servicespec" }, false, { { "RESTART", "restart" } }),
	ROW(VERSION, "runtime", "Version", basalt__runtime__version__descriptor,
	    { "version", "versions" }, false, { { "NAME", "name" }, { "OS VERSION", "version" } }),
	ROW(API_CERTIFICATE, "secrets", "ApiCertificate", basalt__secrets__api_certificate__descriptor,
	    { "apicertificate", "apicert" }, false,
	    { { "MODE", "mode" }, { "STATE", "state" }, { "NOT AFTER", "not_after" } }),
};

#define P(id) [RES_##id] = &res_types[RES_##id]
const struct res_type *const res_all[RES_NTYPES] = {
	P(DISK), P(MOUNT_STATUS), P(VOLUME), P(MACHINE_CONFIG), P(ADDRESS_SPEC), P(ADDRESS_STATUS), P(HOSTNAME_SPEC), P(HOSTNAME_STATUS),
	P(LINK_SPEC), P(LINK_STATUS), P(ROUTE_SPEC), P(ROUTE_STATUS), P(NODE_ADDRESS), P(OPERATOR_SPEC), P(OPERATOR_STATUS), P(RESOLVER_SPEC), P(RESOLVER_STATUS), P(TIMESERVER_SPEC),
	P(TIMESERVER_STATUS), P(TIME_STATUS), P(WIREGUARD_STATUS),
	P(CONFIG_STATUS), P(CONTROLLER_STATUS), P(FILE_STATUS), P(INSTALL_STATUS), P(MACHINE_STATUS), P(PLATFORM_METADATA), P(SERVICE), P(SERVICE_SPEC),
	P(VERSION), P(API_CERTIFICATE),
};

const struct res_type *res_type_find(const char *name)
{
	for (size_t i = 0; i < RES_NTYPES; i++) {
		const struct res_type *t = &res_types[i];

		if (strcasecmp(t->type, name) == 0)
			return t;
		for (size_t j = 0; j < RES_ALIASES_MAX && t->aliases[j]; j++)
			if (strcasecmp(t->aliases[j], name) == 0)
				return t;
	}
	return NULL;
}

const struct res_type *res_type_of(const char *ns, const char *type)
{
	for (size_t i = 0; i < RES_NTYPES; i++)
		if (strcmp(res_types[i].ns, ns) == 0 && strcmp(res_types[i].type, type) == 0)
			return &res_types[i];
	return NULL;
}

/* The secret fields of the machine config (api/config.proto). */
static const char *const secret_fields[][2] = {
	{ "basalt.config.CertAndKey", "key" },
	{ "basalt.config.Machine", "token" },
	{ "basalt.config.Wireguard", "privateKey" },
	{ "basalt.config.Cluster", "secret" },
	{ "basalt.config.Secrets", "bootstrapToken" },
	{ "basalt.config.Secrets", "secretboxEncryptionSecret" },
	{ "basalt.config.ServiceAccount", "key" },
};

bool res_field_secret(const char *message, const char *field)
{
	for (size_t i = 0; i < sizeof(secret_fields) / sizeof(secret_fields[0]); i++)
		if (strcmp(secret_fields[i][0], message) == 0 && strcmp(secret_fields[i][1], field) == 0)
			return true;
	return false;
}

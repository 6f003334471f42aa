/* SPDX-License-Identifier: MIT */
/*
 * The type registry: every resource type, declared once. A row names the type's namespace
 * and name, the protobuf message of its spec, the aliases osctl accepts, whether reading it
 * needs os:admin (sensitive: its secret fields are redacted by every printer), and the
 * spec fields `osctl get` shows as table columns. machined's store refuses any type not in
 * the table it was made with; osctl resolves names and prints columns from the same rows.
 *
 * A type is named in code by its handle, RES(SERVICE) = &res_types[RES_SERVICE]: a typo is a
 * compile error, not a resource nobody reads.
 */
#ifndef BASALT_RESTYPES_H
#define BASALT_RESTYPES_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define RES_ALIASES_MAX 4
#define RES_COLUMNS_MAX 4

struct res_column {
	const char *title;   /* "STATE" */
	const char *field;   /* the spec field it shows: "state" */
};

struct res_type {
	unsigned index;                          /* its row in the table it belongs to */
	const char *ns, *type;
	const ProtobufCMessageDescriptor *spec;  /* every resource of the type holds one */
	const char *aliases[RES_ALIASES_MAX];    /* lower case; the type name matches in any case too */
	bool sensitive;
	struct res_column columns[RES_COLUMNS_MAX];
};

enum res_type_id {  /* by namespace, then type: the order listings use */
	RES_DISK,
	RES_MOUNT_STATUS,
	RES_VOLUME,
	RES_MACHINE_CONFIG,
	RES_ADDRESS_SPEC,
	RES_ADDRESS_STATUS,
	RES_HOSTNAME_SPEC,
	RES_HOSTNAME_STATUS,
	RES_LINK_SPEC,
	RES_LINK_STATUS,
	RES_NODE_ADDRESS,
	RES_OPERATOR_SPEC,
	RES_OPERATOR_STATUS,
	RES_RESOLVER_SPEC,
	RES_RESOLVER_STATUS,
	RES_ROUTE_SPEC,
	RES_ROUTE_STATUS,
	RES_TIMESERVER_SPEC,
	RES_TIMESERVER_STATUS,
	RES_TIME_STATUS,
	RES_WIREGUARD_STATUS,
	RES_CONFIG_STATUS,
	RES_CONTROLLER_STATUS,
	RES_FILE_STATUS,
	RES_INSTALL_STATUS,
	RES_MACHINE_STATUS,
	RES_PLATFORM_METADATA,
	RES_SERVICE,
	RES_SERVICE_SPEC,
	RES_VERSION,
	RES_API_CERTIFICATE,
	RES_NTYPES,
};

extern const struct res_type res_types[RES_NTYPES];
extern const struct res_type *const res_all[RES_NTYPES];  /* &res_types[0..], for a store */
#define RES(name) (&res_types[RES_##name])

/* By type name (any case) or alias; NULL if unknown. */
const struct res_type *res_type_find(const char *name);
/* By namespace and exact type name; NULL if not in the registry. */
const struct res_type *res_type_of(const char *ns, const char *type);
/*
 * Whether a field of a sensitive type's spec holds a secret value (a private key, a token,
 * an encryption secret), by the protobuf message's full name and the field's name. Printers
 * (machined's dump and render) show such fields as RES_REDACTED.
 */
bool res_field_secret(const char *message, const char *field);
#define RES_REDACTED "(redacted)"

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The machine API's one table of methods (the role each needs, whether maintenance mode
 * serves it, whether it streams): apid checks roles by it, the core dispatches by its
 * index, osctl takes method paths from it. The resource types are in lib/restypes.h.
 */
#ifndef BASALT_APIDEF_H
#define BASALT_APIDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/pki.h"

#define API_PORT 50000
#define API_TRUSTD_PORT 50001
#define API_MD_NODES "nodes"               /* request metadata: forward to these nodes */
#define API_MD_ROLE "x-basalt-role"        /* forwarded: the original caller's role */
#define API_MD_FORWARDED "x-basalt-forwarded-by"
#define API_STREAMS_PER_CLIENT 16          /* streaming calls one client certificate may have open */
#define API_STREAMS_MAX 128                /* streaming calls a node serves at once */
#define API_LOG_STREAMS_MAX 32             /* Logs calls at once: each takes one of init's 64 connections */

/* The methods, by their index in api_methods (the core dispatches by it). */
enum api_method_id {
	API_VERSION,
	API_APPLY_CONFIGURATION,
	API_SERVICE_LIST,
	API_SERVICE_START,
	API_SERVICE_STOP,
	API_SERVICE_RESTART,
	API_LOGS,
	API_DMESG,
	API_REBOOT,
	API_SHUTDOWN,
	API_READ,
	API_FILE_LIST,        /* MachineService/List (files); API_LIST is ResourceService/List */
	API_RESET,
	API_GET,
	API_LIST,
	API_WATCH,
	API_CERTIFICATE,      /* port 50001 (trustd), no client certificate */
	API_NMETHODS,
};

struct api_method {
	const char *path;        /* "/basalt.machine.MachineService/Version" */
	const char *name;        /* "Version" */
	enum pki_role role;      /* the weakest role allowed */
	bool maintenance;        /* served before the machine has a config */
	bool stream;             /* server-streaming */
	bool trustd;             /* served on the signing port (50001) only, without identity */
	const ProtobufCMessageDescriptor *request;   /* what a call sends */
	const ProtobufCMessageDescriptor *response;  /* what it gets back (each message of a stream) */
};

extern const struct api_method api_methods[API_NMETHODS];
extern const size_t api_nmethods;
const struct api_method *api_method_find(const char *path);

/* Parses "IP", "IP:port", "[v6]:port" (port defaults to def). 0, or -1 if malformed. */
int api_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, uint16_t def);

#define API_NODE_LEN 64      /* one "address[:port]" of a nodes header, with its NUL */
#define API_NODES_MAX 1023   /* a whole nodes header */
/*
 * Parses a nodes header (IP addresses with optional ports, separated by commas or blanks)
 * into out[0..max-1], each as given. Every node must be an IP address, its port 1-65535,
 * none named twice; 0, or -1 with err naming the item at fault.
 */
int api_parse_nodes(const char *list, char out[][API_NODE_LEN], size_t max, size_t *n, char *err,
		    size_t errlen);

#endif

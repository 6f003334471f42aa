/* SPDX-License-Identifier: MIT */
/*
 * The machine API server (port 50000): TLS (maintenance: self-signed, no client
 * certificates; configured: mutual TLS against the machine's OS CA), the role check of
 * lib/apidef.c's table, forwarding to the nodes a request names, and the RPCs.
 *
 * ApiCertController keeps the server certificate right: issued by machine.ca for the
 * machine's addresses, hostname, certSANs and the listen address, and renewed when one of
 * them changes (address changes arrive by rtnetlink). It publishes
 * secrets/ApiCertificate/api. Connections made under a previous CA are closed once the new
 * one is in force, so no client keeps rights the new config does not give it.
 */
#ifndef BASALT_API_H
#define BASALT_API_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/grpc_server.h"
#include "lib/pki.h"
#include "lib/loop.h"
#include "machined/config.h"
#include "machined/ctrl_init.h"
#include "machined/runtime.h"

struct api_opts {
	struct loop *loop;
	struct rt *rt;
	struct config_holder *config;
	struct initctrl *init;
	const char *init_socket;
	const char *listen;      /* "addr:port"; NULL: 0.0.0.0:50000 */
	const char *kmsg;        /* NULL: /dev/kmsg */
};

struct api {
	struct api_opts o;
	struct store *st;
	struct grpc_server *srv;
	struct rt_ctrl *cert_ctrl;
	char listen_addr[64];
	uint16_t port;
	bool maintenance;           /* serving without client certificates */
	char *key_pem;              /* the server key, kept across renewals */
	char *crt_pem;
	char fingerprint[65];
	char ca_fingerprint[65];    /* of the CA the TLS in force trusts */
	char *ca_crt_pem;
	struct tls_config *client_tls;  /* for forwarding: an os:impersonator certificate */
	int nl_fd;
	struct loop_watch *nl_w;
	struct loop_timer drop;     /* closes connections made under the previous TLS */
	struct loop_timer try_timer;
	char *try_prev;             /* the config a try returns to */
	uint64_t try_ms;
	struct loop_timer power;
	int power_action;           /* basalt.init.PowerAction, after the reply is out */
};

int api_start(struct api *a, const struct api_opts *o, char *err, size_t errlen);
void api_stop(struct api *a);

/* --- shared by api.c and api_rpc.c --- */

/* Sends m as one reply message; grpc_call_send's result. */
int api_send(struct grpc_call *c, const ProtobufCMessage *m);
/* Sends m and ends the call with OK. */
void api_reply(struct grpc_call *c, const ProtobufCMessage *m);
/* Runs a local RPC whose caller has been authorised. */
void api_rpc_dispatch(struct api *a, struct grpc_call *c, const char *name, enum pki_role role);
/* The reboot or power-off a reply promised, once it has been sent. */
void api_schedule_power(struct api *a, int action);

#endif

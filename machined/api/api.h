/* SPDX-License-Identifier: MIT */
/*
 * The machine API (port 50000), split as ARCHITECTURE.md describes:
 *
 *   apid (machined/api/apid.c): a separate, unprivileged process (uid 65534, no capabilities,
 *   a seccomp allowlist) that does the TLS handshakes, HTTP/2, gRPC framing, the role
 *   check of lib/apidef.c's table and forwarding to other nodes, and passes each
 *   authorised request to the core over a SOCK_SEQPACKET socketpair (machined/api/apiipc.h).
 *
 *   the core (this file's api.c, api_rpc.c): runs in machined, which alone touches the
 *   machine. It starts apid (and starts it again if it dies or misbehaves: a malformed
 *   message is fatal to apid, never to the core), keeps its TLS material right, and runs
 *   the RPCs.
 *
 * ApiCertController keeps the server certificate right: issued by machine.ca for the
 * machine's addresses, hostname, certSANs and the listen address, and renewed when one of
 * them changes (address changes arrive by rtnetlink); in maintenance mode (no config) it
 * is self-signed and its fingerprint is logged. It publishes secrets/ApiCertificate/api.
 */
#ifndef BASALT_API_H
#define BASALT_API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/apidef.h"
#include "lib/buf.h"
#include "lib/loop.h"
#include "lib/pki.h"
#include "machined/api/apiipc.h"
#include "machined/ctrl/config.h"
#include "machined/ctrl/ctrl_init.h"
#include "machined/core/runtime.h"

struct api_opts {
	struct loop *loop;
	struct rt *rt;
	struct config_holder *config;
	struct initctrl *init;
	const char *init_socket;
	const char *listen;      /* "addr:port"; NULL: 0.0.0.0:50000 */
	const char *kmsg;        /* NULL: /dev/kmsg */
	const char *self;        /* machined's executable, for apid; NULL: /proc/self/exe */
	/* A machine booted from media (the ISO): a change to machine.install needs no reboot,
	 * InstallController acts on it and its install reboots. */
	bool installs;
	const char *var_dir;     /* what Read and List serve as /var; NULL: /var */
	bool machine;            /* a real machine (BASALT_MACHINE), not a container */
	/* Tests: the lifetime in seconds of the certificates this node signs for workers and of
	 * its os:impersonator certificate (0: API_WORKER_CERT_DAYS and API_IMPERSONATOR_HOURS). */
	unsigned signed_lifetime_s;
};

struct apicall;

#define API_CORE_MAX_CALLS 1024     /* calls apid may have handed over at once */
#define API_WORKER_CERT_DAYS 30     /* a certificate a control-plane node signs for a worker */
#define API_IMPERSONATOR_HOURS 12   /* the os:impersonator certificate, renewed at half its life */

struct api {
	struct api_opts o;
	struct store *st;
	struct rt_ctrl *cert_ctrl;
	struct apicall *dispatching;  /* the call whose request on_ipc_msg is handing to its handler */
	char listen[80];
	char trustd_listen[80];     /* the signing port's address */
	char listen_addr[64];
	uint16_t port;
	bool maintenance;           /* serving without client certificates */
	char *key_pem;              /* the server key, kept across renewals */
	char *crt_pem;
	char fingerprint[65];
	char ca_fingerprint[65];    /* of the CA the TLS in force trusts */
	struct buf setup;           /* the last basalt.apid.Setup, sent again to a new apid */
	bool trustd_on;             /* that Setup serves the signing port (control plane) */
	int64_t imp_renew;          /* when to renew the os:impersonator certificate (0: none) */
	int64_t not_after;          /* of the server certificate (Unix seconds) */
	char cert_state[16];        /* issued | pending */
	char issuer[280];           /* self | self-signed | the control-plane node asked */
	/* a worker's certificate, from a control-plane node */
	bool from_cp;               /* the certificate in force came from one */
	int64_t cert_renew;
	struct grpc_client *fetch_cl;
	bool fetching, fetch_wait;  /* a request out; waiting out a failure's backoff */
	unsigned fetch_attempts;    /* failures in a row; picks the next signer too */
	unsigned fetch_signers;     /* how many there are to try in turn */
	char fetch_from[280], fetch_error[256];
	char *fetch_ca;             /* the CA the answer must be issued by */
	char *fetched_crt;          /* answered, not yet in force */
	int64_t fetched_not_after;
	struct buf fetch_resp;
	struct loop_timer renew;
	uint32_t policy;            /* IPC_POLICY_* bits apid has */
	char ready_msg[512];        /* logged when apid says that Setup is in force */
	/* apid */
	pid_t apid;
	struct ipc *ipc;
	unsigned apid_starts;
	unsigned apid_fails;        /* quick deaths in a row (the restart backoff) */
	uint64_t apid_started_ms;
	struct loop_timer restart;
	struct apicall *calls;      /* calls apid has handed over and the core still holds */
	unsigned ncalls, nstreams, nlogs;  /* of calls: all, streaming, Logs */
	/* netlink address watch */
	struct loop_timer power;
	int power_action;           /* basalt.init.PowerAction, after the reply is out */
	char wipe[4][64];           /* and the devices init wipes after the unmount (Reset) */
	size_t nwipe;
};

/* Readies a (no process, no controller yet): before ctrl_start, which registers
 * ctrl_api_certificate with a as its state. -EINVAL for a bad listen address. */
int api_init(struct api *a, const struct api_opts *o, char *err, size_t errlen);
/* Starts apid, once the controllers are registered. */
void api_run(struct api *a);
/* ApiCertController: secrets/ApiCertificate/api and the TLS settings apid serves with. */
extern const struct ctrl_def ctrl_api_certificate;
void api_stop(struct api *a);

/* --- a call handed over by apid, as the RPCs see it --- */
typedef void apicall_fn(void *arg, struct apicall *c);

enum api_method_id apicall_method(const struct apicall *c);
/* The request bytes, only while its handler is being called (NULL after: decode at once). */
const uint8_t *apicall_request(const struct apicall *c, size_t *len);
/* 0, 1 when the caller should wait for on_writable, -ECANCELED when the call is gone. */
int apicall_send(struct apicall *c, const void *msg, size_t len);
/* Ends the call (exactly once, also after it was cancelled: then it only releases it). */
void apicall_finish(struct apicall *c, int code, const char *message);
bool apicall_cancelled(const struct apicall *c);
/* Made without a client identity, while the node had no config (maintenance mode). */
bool apicall_maintenance(const struct apicall *c);
void apicall_on_cancel(struct apicall *c, apicall_fn *fn, void *arg);
void apicall_on_writable(struct apicall *c, apicall_fn *fn, void *arg);
/* Reply bytes sent that the client side has not taken yet. */
size_t apicall_queued(const struct apicall *c);

/* Sends m as one reply message; apicall_send's result. */
int api_send(struct apicall *c, const ProtobufCMessage *m);
/* Sends m and ends the call with OK. */
void api_reply(struct apicall *c, const ProtobufCMessage *m);
/* Runs an RPC for a caller the core has admitted, with the role it runs with. */
void api_rpc_dispatch(struct api *a, struct apicall *c, enum api_method_id m, enum pki_role role);
/* The reboot or power-off a reply promised, once it has been sent. */
void api_schedule_power(struct api *a, int action);
/* The same for a Reset: init wipes the devices (at most 4) once everything is unmounted. */
void api_schedule_reset(struct api *a, int action, char *const *wipe, size_t nwipe);

/* apid's entry point: machined apid --ipc-fd FD --listen ADDR:PORT */
int apid_main(int argc, char **argv);

#endif

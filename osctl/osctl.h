/* SPDX-License-Identifier: MIT */
/* osctl's shared pieces: options, the client config, RPC plumbing, output. */
#ifndef BASALT_OSCTL_H
#define BASALT_OSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "api/machine.pb-c.h"
#include "api/osctl.pb-c.h"
#include "lib/apidef.h"
#include "lib/buf.h"
#include "lib/grpc_client.h"
#include "lib/mconfig.h"
#include "lib/loop.h"

#define OSC_MAX_LIST 32

struct osc {
	/* global flags */
	const char *config_path;        /* --osconfig, $OSCONFIG, ~/.osctl/config */
	const char *context;            /* --context */
	const char *endpoints[OSC_MAX_LIST];
	size_t nendpoints;
	const char *nodes[OSC_MAX_LIST];
	size_t nnodes;
	bool nodes_set;
	/* connection */
	bool insecure;                  /* maintenance mode: no client certificate */
	const char *fingerprint;        /* pin the server certificate (with insecure) */
	bool skip_verify;               /* --skip-node-verification: apply with insecure, no pin */
	bool tls12;                     /* --tls-max 1.2 */
	uint64_t deadline_ms;           /* mono_ms: no connection or call outlasts it (0: none) */
	struct loop *loop;
	struct grpc_client *cl;
	struct tls_config *tls;
	char endpoint[80];
	char session_path[4200];        /* where this context's TLS session for endpoint is kept */
	char session_key[96];           /* host:port, the ticket's name in the TLS config */
	unsigned char *session;         /* the ticket loaded from session_path (to see if it changed) */
	size_t session_len;
	/* the client config */
	Basalt__Osctl__ClientConfig *cfg;
	bool cfg_loaded;
	int failures;                   /* per-node errors printed */
	int last_code;                  /* the gRPC status of the last call */
};

/* --- clientcfg.c --- */
int osc_cfg_load(struct osc *o, bool must_exist);
int osc_cfg_save(struct osc *o);
/* The context in use (--context, else the config's), or NULL with the reason printed. */
Basalt__Osctl__Context *osc_cfg_current(struct osc *o, const char **name);
/* Adds (or replaces) a context, taking ctx over. */
int osc_cfg_put(Basalt__Osctl__ClientConfig *cfg, const char *name, Basalt__Osctl__Context *ctx);
Basalt__Osctl__Context *osc_cfg_find(Basalt__Osctl__ClientConfig *cfg, const char *name);
/* Removes a context (when it was current, none is): 1, or 0 when there is none. */
int osc_cfg_remove(Basalt__Osctl__ClientConfig *cfg, const char *name);
char **osc_strv(const char *const *v, size_t n);
int cmd_config(struct osc *o, int argc, char **argv);

/* --- rpc.c --- */
int osc_connect(struct osc *o);
/* A unary call: 0 with the reply in *reply, else -1 with the error printed. */
int osc_unary(struct osc *o, enum api_method_id m, const ProtobufCMessage *req, struct buf *reply);
/* A server stream: fn per message (return nonzero to stop). 0, or -1 with the error printed. */
int osc_stream(struct osc *o, enum api_method_id m, const ProtobufCMessage *req, grpc_msg_fn *fn, void *arg);
void osc_close(struct osc *o);
/* Prints a per-node error from a reply's metadata; returns true when there was one. */
bool osc_node_error(struct osc *o, const Basalt__Resource__NodeMetadata *md);
const char *osc_node_name(struct osc *o, const Basalt__Resource__NodeMetadata *md);

/* --- config patches (osctl/cmd_config.c) --- */
#define OSC_PATCHES_MAX 16
struct osc_patches {
	struct mconfig_patch p[OSC_PATCHES_MAX];
	char *text[OSC_PATCHES_MAX];
	size_t n;
};
/* Adds the value of each name (or alt) option to ps: @FILE (read), or the patch itself.
 * 0, or -1 said. */
int osc_patches_collect(int argc, char **argv, const char *name, const char *alt, struct osc_patches *ps);
void osc_patches_fini(struct osc_patches *ps);
/* text loaded and validated with ps's patches (NULL: none), problems said: the config as it
 * is to be sent (free it), or NULL. */
char *osc_prepare_config(const char *name, const char *text, size_t len, const struct osc_patches *ps);

/* --- table output --- */
#define TABLE_COLS_MAX 16
struct table {
	char **cells;
	size_t ncols, nrows, cap;
};
/* Options (osctl/opts.c): the value after a or b, whether a or b is there, the want-th argument
 * that is not an option (the options in takes_value take one). */
const char *osc_opt(int argc, char **argv, const char *a, const char *b);
bool osc_flag(int argc, char **argv, const char *a, const char *b);
const char *osc_positional(int argc, char **argv, int want, const char *const *takes_value);
/* Every option of argv (argv[0] the command) is one of takes_value (with its value) or of
 * flags, and at most max_positional other arguments: 0, or -1 said. */
int osc_check_args(int argc, char **argv, const char *const *takes_value, const char *const *flags, int max_positional);
/* Output (osctl/output.c): a reply decoded as d (NULL, saying so); text with each line indented. */
void *osc_unpack(const ProtobufCMessageDescriptor *d, struct buf *b);
void osc_print_indented(const char *text, const char *indent);
void table_init(struct table *t, size_t ncols);
void table_add(struct table *t, ...);  /* ncols strings */
void table_add_row(struct table *t, const char *const *cells);  /* ncols strings */
void table_print(struct table *t);
void table_fini(struct table *t);

/* --- commands --- */
int cmd_gen(struct osc *o, int argc, char **argv);
int cmd_pxe(struct osc *o, int argc, char **argv);
/* A DHCP reply (n bytes) is an OFFER for the DISCOVER with transaction id xid. */
bool pxe_is_offer(const uint8_t *r, size_t n, uint32_t xid);
int cmd_version(struct osc *o, int argc, char **argv);
int cmd_apply(struct osc *o, int argc, char **argv);
int cmd_get(struct osc *o, int argc, char **argv);
int cmd_services(struct osc *o, int argc, char **argv);
int cmd_health(struct osc *o, int argc, char **argv);
int cmd_service(struct osc *o, int argc, char **argv);
int cmd_logs(struct osc *o, int argc, char **argv);
int cmd_dmesg(struct osc *o, int argc, char **argv);
/* A stream of Data messages (Logs, Dmesg, Read) written to stdout as it comes; rc 1 if a
 * node failed. */
struct osc_datactx {
	struct osc *o;
	int rc;
};
grpc_msg_fn osc_on_data;
int cmd_read(struct osc *o, int argc, char **argv);
int cmd_ls(struct osc *o, int argc, char **argv);
int cmd_power(struct osc *o, int argc, char **argv, bool reboot);
int cmd_reset(struct osc *o, int argc, char **argv);
int cmd_validate(struct osc *o, int argc, char **argv);
int cmd_patch(struct osc *o, int argc, char **argv);
int cmd_edit(struct osc *o, int argc, char **argv);
int cmd_completion(struct osc *o, int argc, char **argv);

/* osctl's commands (osctl/commands.c): dispatch, usage and completion come from this table. */
struct osc_cmd {
	const char *name;
	const char *alias;
	int (*run)(struct osc *o, int argc, char **argv);
	const char *usage;      /* after "  " in osctl's usage */
	const char *words;      /* completion of the next word ("@types": resource types); NULL: none */
};
extern const struct osc_cmd osc_cmds[];
extern const size_t osc_ncmds;
const struct osc_cmd *osc_cmd_find(const char *name);
void osc_usage(FILE *f);

#endif

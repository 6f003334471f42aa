/* SPDX-License-Identifier: MIT */
/* The RPC handlers, by service, and what they share (machined/api/api_rpc.c dispatches). */
#ifndef BASALT_RPC_H
#define BASALT_RPC_H

#include "machined/api/api.h"

typedef void rpc_fn(struct api *a, struct apicall *c, enum pki_role role);

/* The call's request as a d message, or NULL with the call finished (INVALID_ARGUMENT). */
void *rpc_decode(struct apicall *c, const ProtobufCMessageDescriptor *d);
#define DECODE(c, type, desc) ((type *)rpc_decode((c), &(desc)))

#define STREAM_MAX_QUEUED (4u << 20)  /* a stream whose client lags further is ended */
#define DATA_CHUNK 16384              /* bytes of a Data message of a stream */

/* Sends a Data message of a stream; apicall_send's result. */
int rpc_send_data(struct apicall *c, const void *p, size_t n);
/* 0 while the stream may go on after a send that returned sent, else the status to end it
 * with (the caller ends it): the call gone, or the client too far behind. */
int rpc_stream_check(struct apicall *c, int sent);
/* The message a stream ended by rpc_stream_check's status gets. */
const char *rpc_stream_why(int code);

/* basalt.machine.MachineService (rpc_machine.c) */
rpc_fn rpc_version, rpc_apply, rpc_service_list, rpc_service_start, rpc_service_stop, rpc_service_restart,
	rpc_logs, rpc_dmesg, rpc_reboot, rpc_shutdown, rpc_reset;
/* MachineService's Read and List: files under /var, /proc and /sys (rpc_files.c) */
rpc_fn rpc_read, rpc_file_list;
/* basalt.resource.ResourceService (rpc_resource.c) */
rpc_fn rpc_get, rpc_list, rpc_watch;
/* basalt.security.SecurityService (rpc_security.c) */
rpc_fn rpc_certificate;

#endif

/* SPDX-License-Identifier: MIT */
/* The RPC handlers, by service, and what they share (machined/api/api_rpc.c dispatches). */
#ifndef BASALT_RPC_H
#define BASALT_RPC_H

#include "machined/api/api.h"

typedef void rpc_fn(struct api *a, struct apicall *c, enum pki_role role);

/* The call's request as a d message, or NULL with the call finished (INVALID_ARGUMENT). */
void *rpc_decode(struct apicall *c, const ProtobufCMessageDescriptor *d);
#define DECODE(c, type, desc) ((type *)rpc_decode((c), &(desc)))

/* basalt.machine.MachineService (rpc_machine.c) */
rpc_fn rpc_version, rpc_apply, rpc_service_list, rpc_service_start, rpc_service_stop, rpc_service_restart,
	rpc_logs, rpc_dmesg, rpc_reboot, rpc_shutdown;
/* basalt.resource.ResourceService (rpc_resource.c) */
rpc_fn rpc_get, rpc_list, rpc_watch;
/* basalt.security.SecurityService (rpc_security.c) */
rpc_fn rpc_certificate;

#endif

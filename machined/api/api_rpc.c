/* SPDX-License-Identifier: MIT */
/*
 * The machine API's RPCs, run on machined's loop once api.c has admitted the call: the
 * handler of each method of lib/apidef.c's table, one file per service (rpc_machine.c,
 * rpc_resource.c, rpc_security.c).
 * Streams (Logs, Dmesg, List, Watch) respect the client's pace: a stream whose client
 * stops reading is held, and ended (rather than buffered without bound) when it falls too
 * far behind.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "api/machine.pb-c.h"
#include "api/runtime.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/linediff.h"
#include "lib/log.h"
#include "lib/pbyaml.h"
#include "machined/api/api.h"
#include "machined/api/rpc.h"
#include "lib/grpc.h"
#include "machined/ctrl/initclient.h"
#include "machined/api/kmsg.h"
#include "machined/core/resfmt.h"

void *rpc_decode(struct apicall *c, const ProtobufCMessageDescriptor *d)
{
	const struct api_method *am = &api_methods[apicall_method(c)];
	size_t len;
	const uint8_t *p = apicall_request(c, &len);
	void *m;

	/* The table says what each method takes; a handler reading another message is a bug. */
	if (d != am->request) {
		log_warnx("API: the %s handler decodes a %s, the table says %s", am->name, d->name, am->request->name);
		apicall_finish(c, GRPC_INTERNAL, "this node's handler does not match its method table");
		return NULL;
	}
	m = protobuf_c_message_unpack(d, NULL, len, p);

	if (!m) {
		char msg[160];

		snprintf(msg, sizeof(msg), "the request is not a valid %s", d->name);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
	}
	return m;
}

/* The handler of each method of lib/apidef.c's table, by the same index. */
static rpc_fn *const handlers[API_NMETHODS] = {
	[API_VERSION] = rpc_version,
	[API_APPLY_CONFIGURATION] = rpc_apply,
	[API_SERVICE_LIST] = rpc_service_list,
	[API_SERVICE_START] = rpc_service_start,
	[API_SERVICE_STOP] = rpc_service_stop,
	[API_SERVICE_RESTART] = rpc_service_restart,
	[API_LOGS] = rpc_logs,
	[API_DMESG] = rpc_dmesg,
	[API_REBOOT] = rpc_reboot,
	[API_SHUTDOWN] = rpc_shutdown,
	[API_READ] = rpc_read,
	[API_FILE_LIST] = rpc_file_list,
	[API_RESET] = rpc_reset,
	[API_GET] = rpc_get,
	[API_LIST] = rpc_list,
	[API_WATCH] = rpc_watch,
	[API_CERTIFICATE] = rpc_certificate,
};

void api_rpc_dispatch(struct api *a, struct apicall *c, enum api_method_id m, enum pki_role role)
{
	if ((unsigned)m < API_NMETHODS && handlers[m])
		handlers[m](a, c, role);
	else
		apicall_finish(c, GRPC_UNIMPLEMENTED, "not implemented");
}

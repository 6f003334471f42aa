/* SPDX-License-Identifier: MIT */
/*
 * What init does with bytes from its control socket before acting on them: frame, decode
 * a basalt.init.Request, and for a service set convert and validate every spec.
 */
#include <stdint.h>
#include <string.h>

#include "init/ctl.h"
#include "init/spec.h"
#include "lib/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		Basalt__Init__Request *req;
		size_t len;

		if (frame_peek(data, size, CTL_MAX_REQUEST, &len) != 1)
			break;
		req = basalt__init__request__unpack(NULL, len, data + FRAME_HDR);
		data += FRAME_HDR + len;
		size -= FRAME_HDR + len;
		if (!req)
			break;
		if (req->op_case == BASALT__INIT__REQUEST__OP_SET_SERVICES &&
		    req->set_services->n_services <= SPEC_MAX_SERVICES) {
			struct spec specs[SPEC_MAX_SERVICES];
			char err[512];
			size_t n = 0;

			while (n < req->set_services->n_services &&
			       spec_from_pb(&specs[n], req->set_services->services[n], err, sizeof(err)) == 0)
				n++;
			if (n == req->set_services->n_services)
				spec_validate_set(specs, n, "machined", err, sizeof(err));
			while (n > 0)
				spec_fini(&specs[--n]);
		}
		basalt__init__request__free_unpacked(req, NULL);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The machine API's request path below TLS: HTTP/2 frames (nghttp2), header validation,
 * gRPC framing and limits in lib/grpc_server.c, then the protobuf request of whichever
 * method the headers name, decoded as machined's handlers decode it. Each input is the
 * byte stream of one plain connection, after the client preface.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/apidef.h"
#include "lib/grpc_server.h"
#include "tests/fuzz/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *request_of(const char *name)
{
	static const struct {
		const char *name;
		const ProtobufCMessageDescriptor *d;
	} t[] = {
		{ "Version", &basalt__machine__version_request__descriptor },
		{ "ApplyConfiguration", &basalt__machine__apply_configuration_request__descriptor },
		{ "ServiceList", &basalt__machine__service_list_request__descriptor },
		{ "ServiceStart", &basalt__machine__service_request__descriptor },
		{ "ServiceStop", &basalt__machine__service_request__descriptor },
		{ "ServiceRestart", &basalt__machine__service_request__descriptor },
		{ "Logs", &basalt__machine__logs_request__descriptor },
		{ "Dmesg", &basalt__machine__dmesg_request__descriptor },
		{ "Reboot", &basalt__machine__reboot_request__descriptor },
		{ "Shutdown", &basalt__machine__shutdown_request__descriptor },
		{ "Get", &basalt__resource__get_request__descriptor },
		{ "List", &basalt__resource__list_request__descriptor },
		{ "Watch", &basalt__resource__watch_request__descriptor },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].d;
	return NULL;
}

static void handler(void *arg, struct grpc_call *c)
{
	const struct api_method *m = api_method_find(grpc_call_method(c));
	const ProtobufCMessageDescriptor *d = m ? request_of(m->name) : NULL;
	size_t len;
	const uint8_t *req = grpc_call_request(c, &len);
	ProtobufCMessage *msg;

	(void)arg;
	if (getenv("FUZZ_GRPC_TRACE"))
		fprintf(stderr, "fuzz_grpc: call %s (%zu bytes)\n", grpc_call_method(c), len);
	grpc_call_header(c, API_MD_NODES);
	if (!d) {
		grpc_call_finish(c, GRPC_UNIMPLEMENTED, "unknown method");
		return;
	}
	msg = protobuf_c_message_unpack(d, NULL, len, req);
	if (!msg) {
		grpc_call_finish(c, GRPC_INVALID_ARGUMENT, "bad request");
		return;
	}
	/* A reply the size of the request, so the send path runs too. */
	grpc_call_send(c, req, len);
	protobuf_c_message_free_unpacked(msg, NULL);
	grpc_call_finish(c, GRPC_OK, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static struct loop *loop;
	static struct grpc_server *srv;
	struct grpc_server_stats st;
	size_t off = 0;
	int sv[2];

	if (!loop) {
		struct grpc_server_opts o = { .handler = handler, .allow_plain = true };

		if (loop_new(&loop) < 0)
			return 0;
		o.loop = loop;
		if (grpc_server_new(&o, &srv) < 0)
			return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (grpc_server_adopt(srv, sv[0]) < 0) {
		close(sv[1]);
		return 0;
	}
	if (write(sv[1], preface, sizeof(preface) - 1) < 0) {
		close(sv[1]);
		return 0;
	}
	for (int i = 0; i < 200; i++) {
		peer_feed(sv[1], data, size, &off);
		loop_run_once(loop, 0);
		grpc_server_stats(srv, &st);
		if (st.conns == 0 && off == size)
			break;
	}
	close(sv[1]);
	/* Anything still open ends with the peer gone. */
	for (int i = 0; i < 20; i++) {
		grpc_server_stats(srv, &st);
		if (st.conns == 0)
			break;
		loop_run_once(loop, 0);
	}
	return 0;
}

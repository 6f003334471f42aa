/* SPDX-License-Identifier: MIT */
/*
 * The gRPC client's reading of a server (lib/grpc_client.c: HTTP/2 through nghttp2,
 * response headers, gRPC framing, trailers, status and message): the client takes over one
 * end of a socketpair, makes three calls (streams 1, 3, 5; the second paused after its
 * first message), and the input is everything the server sends after its SETTINGS frame.
 * Every call must end exactly once, with a status gRPC defines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/grpc_client.h"
#include "tests/fuzz/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct res {
	int done;
	int code;
	size_t msgs;
	struct grpc_ccall *call;
	bool pause;
};

static int on_msg(void *arg, const uint8_t *m, size_t n)
{
	struct res *r = arg;

	(void)m;
	(void)n;
	r->msgs++;
	return r->msgs == 5;  /* non-zero: the caller has had enough */
}

static void on_done(void *arg, int code, const char *msg)
{
	struct res *r = arg;

	(void)msg;
	r->done++;
	r->code = code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
	static struct loop *loop;
	struct res r[3] = { 0 };
	struct grpc_client *c = NULL;
	char err[256];
	size_t off = 0;
	int sv[2];

	if (!loop && loop_new(&loop) < 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	{
		struct grpc_client_opts o = { .loop = loop, .host = "10.0.0.1", .port = 50000, .numeric_only = true,
					      .adopt_fd = sv[0], .max_msg = 65536 };

		if (grpc_client_new(&o, &c, err, sizeof(err)) < 0) {
			close(sv[1]);
			return 0;
		}
	}
	for (int i = 0; i < 3; i++)
		grpc_client_call(c, "/basalt.machine.MachineService/Version", NULL, 0, "", 0, 0, on_msg, on_done,
				 &r[i], &r[i].call);
	for (int i = 0; i < 3; i++)
		loop_run_once(loop, 0);
	peer_drain(sv[1]);
	if (write(sv[1], settings, sizeof(settings)) != (ssize_t)sizeof(settings))
		goto out;
	for (int round = 0; round < 200; round++) {
		peer_feed(sv[1], data, size, &off);
		loop_run_once(loop, 0);
		if (r[1].msgs == 1 && !r[1].done && !r[1].pause) {
			grpc_ccall_pause(r[1].call);
			r[1].pause = true;
		}
		if (r[0].done && r[1].done && r[2].done && off == size)
			break;
	}
out:
	close(sv[1]);
	for (int i = 0; i < 50 && !(r[0].done && r[1].done && r[2].done); i++)
		loop_run_once(loop, 0);
	for (int i = 0; i < 3; i++)
		if (r[i].done > 1 || (r[i].done && (r[i].code < 0 || r[i].code > GRPC_UNAUTHENTICATED)))
			abort();
	grpc_client_free(c);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * apid's walk over other nodes' unary replies (machined/api/apid.c, merge_unary through
 * fwd_node_msg): each XResponse is rewritten so every message in it carries the node it
 * came from, and the replies of all nodes are concatenated into one XResponse. One input
 * is one node's reply; two nodes send it, a third is unreachable. When the input is a
 * valid basalt.machine.VersionResponse, the merged reply must be one too, with each
 * node's messages in order and naming that node.
 */
#include "machined/api/apid.c"

#include <fcntl.h>

#include "api/machine.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const node_names[] = {
	"10.0.0.1:50000",
	"[fd00:1111:2222:3333:4444:5555:6666:7777]:50000",  /* as long as a node gets */
	"10.0.0.3",
};

#define NNODES (sizeof(node_names) / sizeof(node_names[0]))

static struct fwd *fwd_new(void)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	buf_init(&f->merged);
	f->stream = false;
	f->nnodes = NNODES;
	/* One more than will finish, so fwd_end (which needs a real call) never runs. */
	f->pending = NNODES + 1;
	for (size_t i = 0; i < NNODES; i++) {
		f->nodes[i].f = f;
		snprintf(f->nodes[i].node, sizeof(f->nodes[i].node), "%s", node_names[i]);
	}
	return f;
}

static bool names(const Basalt__Machine__VersionInfo *m, const char *node)
{
	return m->metadata && strcmp(m->metadata->node, node) == 0;
}

/* The merged reply: n of the first node's, n of the second's, then the failure. */
static void check(const struct fwd *f, size_t n)
{
	Basalt__Machine__VersionResponse *out =
		basalt__machine__version_response__unpack(NULL, f->merged.len, buf_head(&f->merged));
	const Basalt__Machine__VersionInfo *last;

	if (!out || out->n_messages != 2 * n + 1)
		abort();
	for (size_t i = 0; i < 2 * n; i++)
		if (!names(out->messages[i], node_names[i / (n ? n : 1)]))
			abort();
	last = out->messages[2 * n];
	if (!names(last, node_names[2]) || last->metadata->code != GRPC_UNAVAILABLE ||
	    strcmp(last->metadata->error, "connection refused") != 0)
		abort();
	basalt__machine__version_response__free_unpacked(out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Basalt__Machine__VersionResponse *in;
	static bool quiet;
	struct fwd *f = fwd_new();
	int r0, r1;

	if (!quiet) {
		log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
		quiet = true;
	}
	r0 = fwd_node_msg(&f->nodes[0], data, size);
	r1 = fwd_node_msg(&f->nodes[1], data, size);
	fwd_node_done(&f->nodes[2], GRPC_UNAVAILABLE, "connection refused");
	in = basalt__machine__version_response__unpack(NULL, size, data);
	if (in) {
		/* A reply protobuf accepts is merged, not refused. */
		if (r0 != 0 || r1 != 0)
			abort();
		check(f, in->n_messages);
		basalt__machine__version_response__free_unpacked(in, NULL);
	}
	fwd_free(f);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * One connection to init's control socket (init/ctl.c), served on the event loop: framing,
 * decoding, dispatch, replies, watch and log streams with their flow control. One input is
 * the client's byte stream (framed basalt.init.Request messages) up to its half-close;
 * whatever init answers must be well-formed frames of basalt.init.Response.
 * The supervisor is a fixed set of fake services defined here: nothing forks, execs or
 * signals; a service set is validated as the real supervisor_set validates it, then
 * dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init/ctl.h"
#include "init/spec.h"
#include "init/supervisor.h"
#include "lib/buf.h"
#include "lib/frame.h"
#include "lib/log.h"
#include "lib/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSVCS 3

static const struct {
	const char *id;
	enum svc_state state;
	pid_t pid;       /* never signalled: supervisor_signal below only checks it */
	size_t ring;     /* log ring bytes */
	size_t lines;    /* lines of output written to it */
} fake[NSVCS] = {
	{ "machined", SVC_RUNNING, 4242, 65536, 2000 },  /* wrapped, several chunks */
	{ "containerd", SVC_BACKOFF, 0, 256, 20 },        /* wrapped mid-line */
	{ "idle", SVC_DOWN, 0, 4096, 0 },                 /* nothing written yet */
};

static struct svc *svcs[NSVCS];
static struct supervisor sup = { .svcs = svcs, .nsvcs = NSVCS, .core_id = "machined" };

/* --- what init/ctl.c uses of init/supervisor.c, without processes --- */

struct svc *supervisor_find(const struct supervisor *s, const char *id)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (strcmp(s->svcs[i]->spec.id, id) == 0)
			return s->svcs[i];
	return NULL;
}

int supervisor_set(struct supervisor *s, struct spec *set, size_t n, char *err, size_t errlen)
{
	int r = spec_validate_set(set, n, s->core_id, err, errlen);

	/* Like the real one: consumed on success, the caller's on error. */
	if (r == 0)
		for (size_t i = 0; i < n; i++)
			spec_fini(&set[i]);
	return r;
}

int supervisor_restart(struct supervisor *s, const char *id, char *err, size_t errlen)
{
	struct svc *v = supervisor_find(s, id);

	if (!v || v->removed) {
		snprintf(err, errlen, "no service named %s", id);
		return -ENOENT;
	}
	if (!v->wanted) {
		snprintf(err, errlen, "service %s is being stopped", id);
		return -EBUSY;
	}
	return 0;
}

int supervisor_signal(struct supervisor *s, const char *id, int sig, char *err, size_t errlen)
{
	struct svc *v = supervisor_find(s, id);

	(void)sig;
	if (!v) {
		snprintf(err, errlen, "no service named %s", id);
		return -ENOENT;
	}
	if (v->pid <= 0) {
		snprintf(err, errlen, "service %s is not running", id);
		return -ESRCH;
	}
	return 0;
}

/* --- the fixture --- */

static void power(void *arg, int action, char *const *wipe, size_t nwipe)
{
	(void)arg;
	(void)action;
	for (size_t i = 0; i < nwipe; i++)
		if (strncmp(wipe[i], "/dev/", 5) != 0 || strstr(wipe[i], ".."))
			abort();
}

static char *logtext[NSVCS];
static size_t loglen[NSVCS];

/* Each service's output, made once: ~40 bytes a line. */
static int make_logs(void)
{
	for (size_t i = 0; i < NSVCS; i++) {
		FILE *m = open_memstream(&logtext[i], &loglen[i]);

		if (!m)
			return -1;
		for (size_t l = 0; l < fake[i].lines; l++)
			fprintf(m, "%s: line %zu of its output\n", fake[i].id, l);
		if (fclose(m) != 0)
			return -1;
	}
	return 0;
}

/* Refills every ring the same way, so each input sees the same logs. */
static void fill_logs(void)
{
	for (size_t i = 0; i < NSVCS; i++) {
		svcs[i]->log.head = 0;
		ring_write(&svcs[i]->log, logtext[i], loglen[i]);
	}
}

static int setup(struct loop **loop)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	log_set_fd(fd);
	for (size_t i = 0; i < NSVCS; i++) {
		struct svc *s = calloc(1, sizeof(*s));

		if (!s || !(s->spec.id = strdup(fake[i].id)) || ring_init(&s->log, fake[i].ring) < 0)
			return -1;
		s->sup = &sup;
		s->state = fake[i].state;
		s->wanted = s->state != SVC_DOWN;
		s->pid = fake[i].pid;
		s->last_exit = s->state == SVC_BACKOFF ? 1 : -1;
		snprintf(s->message, sizeof(s->message), "%s", s->state == SVC_BACKOFF ?
			 "exited with status 1, restarting in 200 ms" : "");
		svcs[i] = s;
	}
	return make_logs() < 0 ? -1 : loop_new(loop);
}

/* New output, a state change and a shutdown notice, for whatever streams are open. */
static void poke(struct ctl_server *srv, int round)
{
	if (round == 2) {
		for (size_t i = 0; i < NSVCS; i++) {
			ring_write(&svcs[i]->log, "more output\n", 12);
			ctl_service_log(srv, svcs[i]);
			ctl_service_changed(srv, svcs[i]);
		}
	} else if (round == 3) {
		ctl_notify_shutdown(srv, BASALT__INIT__POWER_ACTION__POWER_REBOOT);
	}
}

/* Reads what init sent so far; every whole frame must decode. */
static void read_replies(int fd, struct buf *in)
{
	size_t len;
	int r;

	while (buf_read_fd(in, fd, 65536) > 0) {
		while ((r = frame_peek(buf_head(in), in->len, CTL_MAX_QUEUED, &len)) == 1) {
			Basalt__Init__Response *resp =
				basalt__init__response__unpack(NULL, len, buf_head(in) + FRAME_HDR);

			if (!resp)
				abort();
			basalt__init__response__free_unpacked(resp, NULL);
			buf_consume(in, FRAME_HDR + len);
		}
		if (r < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct loop *loop;
	struct buf replies;
	struct ctl_server srv;
	size_t off = 0;
	int sv[2];

	if (!loop && setup(&loop) < 0)
		abort();
	fill_logs();
	ctl_init(&srv, loop, &sup, power, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (ctl_attach(&srv, sv[0]) < 0) {
		close(sv[1]);
		return 0;
	}
	buf_init(&replies);
	for (int i = 0; i < 200 && srv.nconns > 0; i++) {
		while (off < size) {
			ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		/* Half-closed only after the pokes, so open streams see them. */
		if (off == size && i > 3)
			shutdown(sv[1], SHUT_WR);
		read_replies(sv[1], &replies);
		loop_run_once(loop, 0);
		poke(&srv, i);
	}
	read_replies(sv[1], &replies);
	buf_fini(&replies);
	close(sv[1]);
	ctl_fini(&srv);
	/* Frees the watches ctl_fini deleted outside a batch. */
	loop_run_once(loop, 0);
	return 0;
}

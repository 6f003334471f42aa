/* SPDX-License-Identifier: MIT */
/*
 * machined's side of init's control socket (machined/ctrl/initclient.c): decoding init's
 * replies and handing them to the request each one names. A client connects to a socket
 * the harness listens on, fills its table of pending requests (a watch and a log read
 * that stay registered, one-shot requests, one whose reply sends another), and then one
 * input is everything init sends back (framed basalt.init.Response messages) before it
 * closes. The client must report the loss exactly once and call nothing after it.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "machined/ctrl/initclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fix {
	struct initclient c;
	int lost;           /* times the lost callback ran */
	int budget;         /* sets still to send: the first, then some from callbacks */
	size_t seen;        /* bytes of replies looked at, so nothing is optimised away */
};

static char dir[] = "/tmp/fuzz-initclient-XXXXXX";
static char sock_path[64];
static int lfd = -1;

static void cleanup(void)
{
	unlink(sock_path);
	rmdir(dir);
}

static int listen_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (!mkdtemp(dir))
		return -1;
	atexit(cleanup);
	snprintf(sock_path, sizeof(sock_path), "%s/init.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		return -1;
	return 0;
}

static void on_lost(void *arg, int reason)
{
	struct fix *f = arg;

	(void)reason;
	if (++f->lost > 1 || initclient_connected(&f->c))
		abort();
}

/* Reads what machined's handlers read; a callback after the loss is a bug. */
static void look(struct fix *f, const Basalt__Init__Response *r)
{
	if (f->lost)
		abort();
	f->seen += strlen(r->message);
	switch (r->result_case) {
	case BASALT__INIT__RESPONSE__RESULT_SERVICES:
		for (size_t i = 0; i < r->services->n_services; i++)
			f->seen += strlen(r->services->services[i]->id) +
				   strlen(r->services->services[i]->message);
		break;
	case BASALT__INIT__RESPONSE__RESULT_EVENT:
		f->seen += strlen(r->event->id) + strlen(r->event->message);
		break;
	case BASALT__INIT__RESPONSE__RESULT_LOG:
		f->seen += r->log->data.len;
		break;
	default:
		break;
	}
}

static bool resend(struct fix *f);

static bool once(void *arg, const Basalt__Init__Response *r)
{
	look(arg, r);
	return false;
}

/* A watch: stays registered; once bootstrapped it sends a set, as machined does. */
static bool watch(void *arg, const Basalt__Init__Response *r)
{
	look(arg, r);
	if (r->result_case == BASALT__INIT__RESPONSE__RESULT_BOOTSTRAPPED)
		resend(arg);
	return true;
}

/* A log read: chunks until the response with no result. */
static bool read_log(void *arg, const Basalt__Init__Response *r)
{
	look(arg, r);
	return r->result_case == BASALT__INIT__RESPONSE__RESULT_LOG;
}

/* A set's reply that triggers the next set, as machined re-sends a changed set. */
static bool set_reply(void *arg, const Basalt__Init__Response *r)
{
	look(arg, r);
	resend(arg);
	return false;
}

static bool resend(struct fix *f)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;

	if (f->budget == 0)
		return false;
	f->budget--;
	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = &set;
	return initclient_send(&f->c, &req, set_reply, f) == 0;
}

/* Ids 1-4 are a list, a watch, a log read and a set; 5 up to the table's end are lists. */
static void send_requests(struct fix *f)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__ListServices ls = BASALT__INIT__LIST_SERVICES__INIT;
	Basalt__Init__WatchServices ws = BASALT__INIT__WATCH_SERVICES__INIT;
	Basalt__Init__ReadLog rl = BASALT__INIT__READ_LOG__INIT;

	req.op_case = BASALT__INIT__REQUEST__OP_LIST_SERVICES;
	req.list_services = &ls;
	initclient_send(&f->c, &req, once, f);
	req.op_case = BASALT__INIT__REQUEST__OP_WATCH_SERVICES;
	req.watch_services = &ws;
	initclient_send(&f->c, &req, watch, f);
	rl.id = "machined";
	req.op_case = BASALT__INIT__REQUEST__OP_READ_LOG;
	req.read_log = &rl;
	initclient_send(&f->c, &req, read_log, f);
	resend(f);
	req.op_case = BASALT__INIT__REQUEST__OP_LIST_SERVICES;
	req.list_services = &ls;
	while (f->c.npending < INITCLIENT_MAX_PENDING)
		if (initclient_send(&f->c, &req, once, f) < 0)
			abort();
}

static void drain(int fd)
{
	char sink[65536];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct loop *loop;
	struct fix f = { .budget = 5 };
	char err[256];
	size_t off = 0;
	int peer;

	if (!loop && (listen_once() < 0 || loop_new(&loop) < 0))
		abort();
	initclient_init(&f.c, loop, on_lost, &f);
	if (initclient_connect(&f.c, sock_path, err, sizeof(err)) < 0)
		abort();
	peer = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (peer < 0)
		abort();
	send_requests(&f);
	for (int i = 0; i < 200 && !f.lost; i++) {
		loop_run_once(loop, 0);
		if (peer < 0)
			continue;
		drain(peer);
		while (off < size) {
			ssize_t n = send(peer, data + off, size - off, MSG_NOSIGNAL);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		/* init closes once it has said everything. */
		if (off == size) {
			close(peer);
			peer = -1;
		}
	}
	if (peer >= 0)
		close(peer);
	/* A client that never noticed init went away would wait for it forever. */
	if (!f.lost)
		abort();
	initclient_close(&f.c);
	loop_run_once(loop, 0);
	return 0;
}

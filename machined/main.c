/* SPDX-License-Identifier: MIT */
/*
 * machined, walking-skeleton stage: connects to init's control socket, sends the desired
 * service set {machined, containerd} and logs every service status change it is told of.
 * The resource store, controllers and API server arrive with later issues.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/backoff.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "machined/initclient.h"

#define MACHINED_SOCKET_DEFAULT "/run/basalt/init.sock"
#define CONTAINERD_DEFAULT "/usr/bin/containerd"
#define CONTAINERD_CONFIG_DEFAULT "/etc/containerd/config.toml"

struct machined {
	struct loop *loop;
	struct initclient init;
	const char *socket;
	char **self_argv;
	const char *containerd;
	const char *containerd_config;
	unsigned reconnects;
	struct loop_timer reconnect;
};

static const char *const state_names[] = { "down", "waiting", "running", "stopping", "backoff",
					   "finished" };

static const char *state_name(Basalt__Init__ServiceState s)
{
	return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static bool on_event(void *arg, const Basalt__Init__Response *resp)
{
	const Basalt__Init__ServiceStatus *st = resp->event;

	(void)arg;
	if (resp->result_case == BASALT__INIT__RESPONSE__RESULT_BOOTSTRAPPED) {
		log_info("service watch established");
		return true;
	}
	if (resp->result_case != BASALT__INIT__RESPONSE__RESULT_EVENT)
		return true;
	if (st->pid > 0)
		log_info("service %s: %s (pid %d, %u restarts)", st->id, state_name(st->state),
			 st->pid, st->restarts);
	else
		log_info("service %s: %s%s%s", st->id, state_name(st->state),
			 st->message[0] ? ": " : "", st->message);
	return true;
}

static bool on_set_reply(void *arg, const Basalt__Init__Response *resp)
{
	(void)arg;
	if (resp->error)
		log_warnx("init rejected the service set: %s", resp->message);
	else
		log_info("service set accepted by init");
	return false;
}

static size_t argv_len(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static void send_desired_set(struct machined *m)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	Basalt__Init__WatchServices watch = BASALT__INIT__WATCH_SERVICES__INIT;
	Basalt__Init__ServiceSpec self = BASALT__INIT__SERVICE_SPEC__INIT;
	Basalt__Init__ServiceSpec ctrd = BASALT__INIT__SERVICE_SPEC__INIT;
	Basalt__Init__ServiceSpec *specs[] = { &self, &ctrd };
	char env[160];
	char *self_env[] = { env };
	char *ctrd_argv[] = { (char *)m->containerd, "--config", (char *)m->containerd_config };

	/* Our own spec repeats init's built-in one, so init sees no change. */
	snprintf(env, sizeof(env), "BASALT_INIT_SOCKET=%s", m->socket);
	self.id = "machined";
	self.argv = m->self_argv;
	self.n_argv = argv_len(m->self_argv);
	self.env = self_env;
	self.n_env = 1;
	self.log_ring_bytes = 256u << 10;
	ctrd.id = "containerd";
	ctrd.argv = ctrd_argv;
	ctrd.n_argv = 3;
	ctrd.log_ring_bytes = 256u << 10;
	set.services = specs;
	set.n_services = 2;
	req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
	req.set_services = &set;
	if (initclient_send(&m->init, &req, on_set_reply, m) < 0)
		log_warnx("send service set to init failed");
	req = (Basalt__Init__Request)BASALT__INIT__REQUEST__INIT;
	req.op_case = BASALT__INIT__REQUEST__OP_WATCH_SERVICES;
	req.watch_services = &watch;
	if (initclient_send(&m->init, &req, on_event, m) < 0)
		log_warnx("send service watch to init failed");
}

static void try_connect(void *arg)
{
	struct machined *m = arg;
	struct backoff b = { 100, 200, 5000 };
	char err[256];

	if (initclient_connect(&m->init, m->socket, err, sizeof(err)) == 0) {
		m->reconnects = 0;
		send_desired_set(m);
		return;
	}
	m->reconnects++;
	log_warnx("%s; retrying", err);
	loop_timer_arm(m->loop, &m->reconnect, backoff_delay_ms(&b, m->reconnects));
}

static void on_lost(void *arg, int reason)
{
	struct machined *m = arg;

	if (m->init.refusal[0])
		log_warnx("init dropped us: %s; reconnecting", m->init.refusal);
	else
		log_warnx("lost init's control socket: %s; reconnecting", strerror(-reason));
	loop_timer_arm(m->loop, &m->reconnect, 100);
}

static void on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct machined *m = arg;

	log_info("signal %u: exiting", si->ssi_signo);
	loop_stop(m->loop);
}

static void usage(void)
{
	fprintf(stderr, "usage: machined [--init-socket PATH] [--containerd PATH] "
			"[--containerd-config PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct machined m = {
		.socket = getenv("BASALT_INIT_SOCKET") ? getenv("BASALT_INIT_SOCKET")
						       : MACHINED_SOCKET_DEFAULT,
		.self_argv = argv,
		.containerd = CONTAINERD_DEFAULT,
		.containerd_config = CONTAINERD_CONFIG_DEFAULT,
	};

	log_init("machined", 2);
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--init-socket") == 0)
			m.socket = argv[++i];
		else if (strcmp(argv[i], "--containerd") == 0)
			m.containerd = argv[++i];
		else if (strcmp(argv[i], "--containerd-config") == 0)
			m.containerd_config = argv[++i];
		else
			usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (loop_new(&m.loop) < 0)
		fatal("create event loop");
	loop_signal(m.loop, SIGTERM, on_signal, &m);
	loop_signal(m.loop, SIGINT, on_signal, &m);
	initclient_init(&m.init, m.loop, on_lost, &m);
	loop_timer_init(&m.reconnect, try_connect, &m);
	log_info("starting (pid %d)", (int)getpid());
	try_connect(&m);
	if (loop_run(m.loop) < 0)
		fatal("event loop");
	initclient_close(&m.init);
	loop_free(m.loop);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * initctl: a test and debugging client for init's control socket.
 *   initctl [-s SOCKET] [-u UID] COMMAND
 *     list                         id state pid restarts last_exit message
 *     set --svc 'ID [restart=always|on-failure|never] [stop=MS] [backoff=BASE:MAX]
 *                [dep=ID,...] [ring=BYTES] -- ARGV...' ...
 *     log ID [-f] [--tail BYTES]   service output (follow: until interrupted)
 *     watch COUNT                  print COUNT status events after the initial list
 *     restart ID | signal ID SIG | power reboot|poweroff
 * -u switches to UID before connecting (to check that init refuses non-root peers).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/loop.h"
#include "machined/ctrl/initclient.h"

#define MAX_SVCS 16
#define MAX_ARGS 32

static struct loop *loop;
static int exit_code;
static long watch_left = -1;

static void lost(void *arg, int reason)
{
	const struct initclient *c = arg;

	if (c->refusal[0])
		fprintf(stderr, "initctl: init refused the request: %s\n", c->refusal);
	else
		fprintf(stderr, "initctl: connection to init lost: %s\n", strerror(-reason));
	if (exit_code == 0)
		exit_code = 1;
	loop_stop(loop);
}

static bool report_error(const Basalt__Init__Response *r)
{
	if (!r->error)
		return false;
	fprintf(stderr, "initctl: %s\n", r->message);
	exit_code = 1;
	loop_stop(loop);
	return true;
}

static const char *state_name(int s)
{
	static const char *const n[] = { "down", "waiting", "running", "stopping", "backoff",
					 "finished" };

	return s >= 0 && s < 6 ? n[s] : "?";
}

static void print_status(const Basalt__Init__ServiceStatus *st)
{
	printf("%s %s %d %u %d %s%s\n", st->id, state_name(st->state), st->pid, st->restarts,
	       st->last_exit, st->removed ? "removed " : "", st->message);
}

static bool on_done(void *arg, const Basalt__Init__Response *r)
{
	(void)arg;
	if (!report_error(r)) {
		if (r->result_case == BASALT__INIT__RESPONSE__RESULT_SERVICES)
			for (size_t i = 0; i < r->services->n_services; i++)
				print_status(r->services->services[i]);
		loop_stop(loop);
	}
	return false;
}

static bool on_log(void *arg, const Basalt__Init__Response *r)
{
	(void)arg;
	if (report_error(r))
		return false;
	if (r->result_case != BASALT__INIT__RESPONSE__RESULT_LOG) {
		loop_stop(loop);  /* end of a one-shot read */
		return false;
	}
	if (r->log->lost)
		printf("[... %llu bytes lost ...]\n", (unsigned long long)r->log->lost);
	fwrite(r->log->data.data, 1, r->log->data.len, stdout);
	fflush(stdout);
	return true;
}

static bool on_watch(void *arg, const Basalt__Init__Response *r)
{
	(void)arg;
	if (report_error(r))
		return false;
	if (r->result_case == BASALT__INIT__RESPONSE__RESULT_BOOTSTRAPPED) {
		printf("bootstrapped\n");
	} else if (r->result_case == BASALT__INIT__RESPONSE__RESULT_EVENT) {
		print_status(r->event);
		if (watch_left >= 0 && --watch_left == 0)
			loop_stop(loop);
	}
	fflush(stdout);
	return true;
}

/* Parses one --svc description into pb; strings point into the (modified) text. */
static int parse_svc(char *text, Basalt__Init__ServiceSpec *pb, char **argv, char **deps)
{
	char *tok, *save = NULL;
	bool args = false;

	basalt__init__service_spec__init(pb);
	pb->argv = argv;
	pb->depends = deps;
	for (tok = strtok_r(text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (args) {
			if (pb->n_argv == MAX_ARGS)
				return -1;
			argv[pb->n_argv++] = tok;
		} else if (strcmp(tok, "--") == 0) {
			args = true;
		} else if (!pb->id[0]) {
			pb->id = tok;
		} else if (strncmp(tok, "restart=", 8) == 0) {
			pb->restart = strcmp(tok + 8, "never") == 0        ? BASALT__INIT__RESTART_POLICY__RESTART_NEVER
				      : strcmp(tok + 8, "on-failure") == 0 ? BASALT__INIT__RESTART_POLICY__RESTART_ON_FAILURE
									   : BASALT__INIT__RESTART_POLICY__RESTART_ALWAYS;
		} else if (strncmp(tok, "stop=", 5) == 0) {
			pb->stop_timeout_ms = (uint32_t)strtoul(tok + 5, NULL, 10);
		} else if (strncmp(tok, "ring=", 5) == 0) {
			pb->log_ring_bytes = (uint32_t)strtoul(tok + 5, NULL, 10);
		} else if (strncmp(tok, "backoff=", 8) == 0) {
			char *colon;

			pb->backoff_base_ms = (uint32_t)strtoul(tok + 8, &colon, 10);
			pb->backoff_max_ms = *colon == ':' ? (uint32_t)strtoul(colon + 1, NULL, 10) : 0;
		} else if (strncmp(tok, "dep=", 4) == 0) {
			char *d, *dsave = NULL;

			for (d = strtok_r(tok + 4, ",", &dsave); d && pb->n_depends < 8;
			     d = strtok_r(NULL, ",", &dsave))
				deps[pb->n_depends++] = d;
		} else {
			return -1;
		}
	}
	return pb->id[0] && pb->n_argv > 0 ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: initctl [-s SOCKET] [-u UID] list|set|log|watch|restart|signal|power ...\n");
	exit(2);
}

static const struct {
	const char *name;
	Basalt__Init__Signal sig;
} signals[] = {
	{ "HUP", BASALT__INIT__SIGNAL__SIGNAL_HUP },   { "INT", BASALT__INIT__SIGNAL__SIGNAL_INT },
	{ "KILL", BASALT__INIT__SIGNAL__SIGNAL_KILL }, { "USR1", BASALT__INIT__SIGNAL__SIGNAL_USR1 },
	{ "USR2", BASALT__INIT__SIGNAL__SIGNAL_USR2 }, { "TERM", BASALT__INIT__SIGNAL__SIGNAL_TERM },
};

int main(int argc, char **argv)
{
	static Basalt__Init__ServiceSpec specs[MAX_SVCS], *ptrs[MAX_SVCS];
	static char *svc_argv[MAX_SVCS][MAX_ARGS], *svc_deps[MAX_SVCS][8];
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT;
	Basalt__Init__SetServices set = BASALT__INIT__SET_SERVICES__INIT;
	Basalt__Init__ListServices ls = BASALT__INIT__LIST_SERVICES__INIT;
	Basalt__Init__WatchServices ws = BASALT__INIT__WATCH_SERVICES__INIT;
	Basalt__Init__ReadLog rl = BASALT__INIT__READ_LOG__INIT;
	Basalt__Init__RestartService rs = BASALT__INIT__RESTART_SERVICE__INIT;
	Basalt__Init__SignalService ss = BASALT__INIT__SIGNAL_SERVICE__INIT;
	Basalt__Init__Power pw = BASALT__INIT__POWER__INIT;
	initclient_response_fn *fn = on_done;
	const char *sock = getenv("BASALT_INIT_SOCKET") ? getenv("BASALT_INIT_SOCKET") : "/run/basalt/init.sock";
	struct initclient c;
	char err[256];
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-s") == 0)
			sock = argv[i + 1];
		else if (strcmp(argv[i], "-u") == 0 && setuid((uid_t)atoi(argv[i + 1])) < 0)
			return perror("setuid"), 1;
	}
	if (i >= argc)
		usage();
	if (strcmp(argv[i], "list") == 0) {
		req.op_case = BASALT__INIT__REQUEST__OP_LIST_SERVICES;
		req.list_services = &ls;
	} else if (strcmp(argv[i], "set") == 0) {
		for (i++; i + 1 < argc && strcmp(argv[i], "--svc") == 0 && set.n_services < MAX_SVCS; i += 2) {
			size_t k = set.n_services;

			if (parse_svc(argv[i + 1], &specs[k], svc_argv[k], svc_deps[k]) < 0) {
				fprintf(stderr, "initctl: bad --svc description\n");
				return 2;
			}
			ptrs[set.n_services++] = &specs[k];
		}
		set.services = ptrs;
		req.op_case = BASALT__INIT__REQUEST__OP_SET_SERVICES;
		req.set_services = &set;
	} else if (strcmp(argv[i], "log") == 0 && i + 1 < argc) {
		rl.id = argv[++i];
		for (i++; i < argc; i++) {
			if (strcmp(argv[i], "-f") == 0)
				rl.follow = 1;
			else if (strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
				rl.tail_bytes = (uint32_t)atoi(argv[++i]);
		}
		req.op_case = BASALT__INIT__REQUEST__OP_READ_LOG;
		req.read_log = &rl;
		fn = on_log;
	} else if (strcmp(argv[i], "watch") == 0 && i + 1 < argc) {
		watch_left = atol(argv[i + 1]);
		req.op_case = BASALT__INIT__REQUEST__OP_WATCH_SERVICES;
		req.watch_services = &ws;
		fn = on_watch;
	} else if (strcmp(argv[i], "restart") == 0 && i + 1 < argc) {
		rs.id = argv[i + 1];
		req.op_case = BASALT__INIT__REQUEST__OP_RESTART_SERVICE;
		req.restart_service = &rs;
	} else if (strcmp(argv[i], "signal") == 0 && i + 2 < argc) {
		ss.id = argv[i + 1];
		for (size_t k = 0; k < sizeof(signals) / sizeof(signals[0]); k++)
			if (strcmp(argv[i + 2], signals[k].name) == 0)
				ss.signal = signals[k].sig;
		req.op_case = BASALT__INIT__REQUEST__OP_SIGNAL_SERVICE;
		req.signal_service = &ss;
	} else if (strcmp(argv[i], "power") == 0 && i + 1 < argc) {
		pw.action = strcmp(argv[i + 1], "reboot") == 0 ? BASALT__INIT__POWER_ACTION__POWER_REBOOT
								: BASALT__INIT__POWER_ACTION__POWER_OFF;
		req.op_case = BASALT__INIT__REQUEST__OP_POWER;
		req.power = &pw;
	} else {
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (loop_new(&loop) < 0)
		return 1;
	initclient_init(&c, loop, lost, &c);
	if (initclient_connect(&c, sock, err, sizeof(err)) < 0) {
		fprintf(stderr, "initctl: %s\n", err);
		return 1;
	}
	if (initclient_send(&c, &req, fn, NULL) < 0)
		return 1;
	loop_run(loop);
	initclient_close(&c);
	loop_free(loop);
	return exit_code;
}

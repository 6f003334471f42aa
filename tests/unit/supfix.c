/* SPDX-License-Identifier: MIT */
#include "tests/unit/supfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static void on_changed(void *arg, struct svc *s)
{
	struct supfix *f = arg;
	struct supfix_event *e;

	ctl_service_changed(&f->ctl, s);
	if (f->nev == SUPFIX_MAX_EVENTS)
		return;
	e = &f->ev[f->nev++];
	snprintf(e->id, sizeof(e->id), "%s", s->spec.id);
	e->state = s->state;
	e->pid = (int)s->pid;
	e->removed = s->removed;
	e->t_ms = mono_ms();
}

static void on_log(void *arg, struct svc *s)
{
	struct supfix *f = arg;

	ctl_service_log(&f->ctl, s);
}

static void on_all_down(void *arg)
{
	struct supfix *f = arg;

	f->all_down = true;
}

static void on_sigchld(void *arg, const struct signalfd_siginfo *si)
{
	struct supfix *f = arg;

	(void)si;
	supervisor_reap(&f->sup);
}

static void on_power(void *arg, int action, char *const *wipe, size_t nwipe)
{
	struct supfix *f = arg;

	f->power_action = action;
	f->nwipe = nwipe;
	for (size_t i = 0; i < nwipe && i < 4; i++)
		snprintf(f->wipe[i], sizeof(f->wipe[i]), "%s", wipe[i]);
}

void supfix_spec(struct spec *s, const char *id, const char *cmd, const struct svc_opts *o)
{
	Basalt__Init__ServiceSpec pb = BASALT__INIT__SERVICE_SPEC__INIT;
	char *argv[] = { "/bin/sh", "-c", (char *)cmd };
	char *deps[1];
	char err[256];

	pb.id = (char *)id;
	pb.argv = argv;
	pb.n_argv = 3;
	if (o) {
		pb.restart = (Basalt__Init__RestartPolicy)o->restart;
		pb.stop_timeout_ms = o->stop_timeout_ms;
		pb.backoff_base_ms = o->base_ms;
		pb.backoff_max_ms = o->max_ms;
		if (o->dep) {
			deps[0] = (char *)o->dep;
			pb.depends = deps;
			pb.n_depends = 1;
		}
	}
	if (spec_from_pb(s, &pb, err, sizeof(err)) < 0)
		fail_msg("spec %s: %s", id, err);
}

void supfix_start(struct supfix *f, const char *core_cmd)
{
	struct supervisor_hooks hooks = { on_changed, on_log, on_all_down, f };
	struct spec core;

	memset(f, 0, sizeof(*f));
	assert_int_equal(loop_new(&f->loop), 0);
	assert_int_equal(loop_signal(f->loop, SIGCHLD, on_sigchld, f), 0);
	ctl_init(&f->ctl, f->loop, &f->sup, on_power, f);
	supfix_spec(&core, "machined", core_cmd, NULL);
	assert_int_equal(supervisor_init(&f->sup, f->loop, NULL, &core, &hooks), 0);
}

void supfix_stop(struct supfix *f)
{
	ctl_fini(&f->ctl);
	for (size_t i = 0; i < f->sup.nsvcs; i++) {
		struct svc *s = f->sup.svcs[i];

		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	supervisor_fini(&f->sup);
	loop_free(f->loop);
}

bool supfix_run_until(struct supfix *f, bool (*cond)(struct supfix *, const void *),
		      const void *arg, int ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)ms;

	while (!cond(f, arg)) {
		if (mono_ms() >= deadline)
			return false;
		assert_int_equal(loop_run_once(f->loop, 10), 0);
	}
	return true;
}

bool supfix_state_is(struct supfix *f, const char *id, enum svc_state st)
{
	struct svc *s = supervisor_find(&f->sup, id);

	return s && s->state == st;
}

long supfix_find_event(const struct supfix *f, const char *id, enum svc_state st, int n)
{
	for (size_t i = 0; i < f->nev; i++)
		if (strcmp(f->ev[i].id, id) == 0 && f->ev[i].state == st && n-- == 0)
			return (long)i;
	return -1;
}

int supfix_count_events(const struct supfix *f, const char *id, enum svc_state st)
{
	int n = 0;

	for (size_t i = 0; i < f->nev; i++)
		n += strcmp(f->ev[i].id, id) == 0 && f->ev[i].state == st;
	return n;
}

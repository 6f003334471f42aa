/* SPDX-License-Identifier: MIT */
#include "init/svc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/supervisor.h"
#include "lib/backoff.h"
#include "lib/log.h"
#include "lib/spawn.h"
#include "lib/svcstate.h"

#define SVC_LOG_READ 4096

bool svc_alive(const struct svc *s)
{
	return s->state == SVC_RUNNING || s->state == SVC_STOPPING;
}

static void svc_on_timer(void *arg)
{
	struct svc *s = arg;

	svc_dispatch(s, SVC_EV_TIMER);
	supervisor_reconcile(s->sup);
}

static void svc_echo(struct svc *s, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;

		if (len > 0)
			log_info("%s: %.*s", s->spec.id, (int)len, p);
		len += nl ? 1 : 0;
		p += len;
		n -= len;
	}
}

static void svc_on_log(void *arg, uint32_t events)
{
	struct svc *s = arg;
	char chunk[SVC_LOG_READ];
	ssize_t n;

	(void)events;
	/* Bounded per wakeup so one chatty service cannot starve the loop. */
	for (int i = 0; i < 16; i++) {
		n = read(s->log_rd, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		ring_write(&s->log, chunk, (size_t)n);
		if (s->sup->echo_logs)
			svc_echo(s, chunk, (size_t)n);
	}
	supervisor_notify_log(s->sup, s);
}

int svc_new(struct supervisor *sup, struct spec *spec, struct svc **out)
{
	struct svc *s = calloc(1, sizeof(*s));
	int p[2], err;

	if (!s)
		return -ENOMEM;
	s->sup = sup;
	s->log_rd = s->log_wr = -1;
	s->last_exit = -1;
	s->since_ms = boot_ms();
	loop_timer_init(&s->timer, svc_on_timer, s);
	err = ring_init(&s->log, spec->log_ring_bytes);
	if (err < 0)
		goto fail;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	s->log_rd = p[0];
	s->log_wr = p[1];
	err = loop_watch_add(sup->loop, s->log_rd, EPOLLIN, svc_on_log, s, &s->log_watch);
	if (err < 0)
		goto fail;
	if (sup->cg.nbase > 0 && (err = cgroup_create(&sup->cg, spec->id)) < 0)
		log_warnx("%s: create cgroup: %s (running without one)", spec->id, strerror(-err));
	s->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	*out = s;
	return 0;
fail:
	svc_free(s);
	return err;
}

void svc_free(struct svc *s)
{
	if (!s)
		return;
	if (s->sup) {
		loop_timer_cancel(s->sup->loop, &s->timer);
		loop_watch_del(s->sup->loop, s->log_watch);
		if (s->spec.id && s->sup->cg.nbase > 0)
			cgroup_remove(&s->sup->cg, s->spec.id);
	}
	if (s->log_rd >= 0)
		close(s->log_rd);
	if (s->log_wr >= 0)
		close(s->log_wr);
	ring_fini(&s->log);
	spec_fini(&s->spec);
	free(s);
}

/* Sends sig to every process of the service: its cgroup, or the main pid without one. */
static void svc_kill_all(struct svc *s, int sig)
{
	if (s->sup->cg.nbase > 0)
		cgroup_signal(&s->sup->cg, s->spec.id, sig);
	if (s->pid > 0)
		kill(s->pid, sig);
}

/* --- actions: each returns the state to enter --- */

static enum svc_state act_wait(struct svc *s)
{
	s->message[0] = '\0';
	return SVC_WAITING;
}

static enum svc_state act_wait_if_wanted(struct svc *s)
{
	return s->wanted ? act_wait(s) : s->state;
}

static enum svc_state act_down(struct svc *s)
{
	loop_timer_cancel(s->sup->loop, &s->timer);
	return SVC_DOWN;
}

static enum svc_state after_exit(struct svc *s);

static enum svc_state act_start(struct svc *s)
{
	char paths[CGROUP_MAX_HIER][CGROUP_PATH_MAX];
	struct spawn_opts o = {
		.argv = s->spec.argv,
		.envp = s->spec.env,
		.cwd = s->spec.cwd,
		.stdin_fd = -1,
		.stdout_fd = s->log_wr,
		.stderr_fd = s->log_wr,
	};
	int err;

	o.njoin = cgroup_procs_paths(&s->sup->cg, s->spec.id, paths);
	for (size_t i = 0; i < o.njoin; i++)
		o.join[i] = paths[i];
	s->started_ms = mono_ms();
	s->restart_pending = false;
	err = spawn(&o, &s->pid, s->message, sizeof(s->message));
	if (err < 0) {
		s->pid = 0;
		s->last_exit = 127;
		log_warnx("%s: failed to start: %s", s->spec.id, s->message);
		return after_exit(s);
	}
	s->message[0] = '\0';
	return SVC_RUNNING;
}

/* Decides what follows an exit (or a failed start) while the service was running. */
static enum svc_state after_exit(struct svc *s)
{
	struct backoff b = { 0, s->spec.backoff_base_ms, s->spec.backoff_max_ms };
	bool ok = s->last_exit == 0;
	uint64_t delay;

	if (!s->wanted) {
		svc_kill_all(s, SIGKILL);
		return SVC_DOWN;
	}
	if (s->spec.restart == SPEC_RESTART_NEVER ||
	    (s->spec.restart == SPEC_RESTART_ON_FAILURE && ok))
		return SVC_FINISHED;
	if (mono_ms() - s->started_ms >= SVC_STABLE_MS)
		s->streak = 0;
	s->streak++;
	delay = backoff_delay_ms(&b, s->streak);
	s->next_start_ms = boot_ms() + delay;
	if (s->message[0] == '\0')
		snprintf(s->message, sizeof(s->message), "exited with status %d", s->last_exit);
	loop_timer_arm(s->sup->loop, &s->timer, delay);
	s->restarts++;
	return SVC_BACKOFF;
}

static enum svc_state act_exited(struct svc *s)
{
	return after_exit(s);
}

static enum svc_state act_stop(struct svc *s)
{
	if (s->pid > 0)
		kill(s->pid, SIGTERM);
	loop_timer_arm(s->sup->loop, &s->timer, s->spec.stop_timeout_ms);
	return SVC_STOPPING;
}

static enum svc_state act_restart(struct svc *s)
{
	s->restart_pending = true;
	s->restarts++;
	return act_stop(s);
}

static enum svc_state act_kill(struct svc *s)
{
	log_warnx("%s: did not stop within %u ms, sending SIGKILL", s->spec.id,
		  s->spec.stop_timeout_ms);
	snprintf(s->message, sizeof(s->message), "killed after %u ms stop timeout",
		 s->spec.stop_timeout_ms);
	svc_kill_all(s, SIGKILL);
	return SVC_STOPPING;
}

static enum svc_state act_stopped(struct svc *s)
{
	loop_timer_cancel(s->sup->loop, &s->timer);
	svc_kill_all(s, SIGKILL);  /* leftovers of a stopped service would be orphans */
	if (s->restart_pending || s->wanted)
		return SVC_WAITING;
	return SVC_DOWN;
}

static enum svc_state act_cancel_wait(struct svc *s)
{
	loop_timer_cancel(s->sup->loop, &s->timer);
	s->restarts++;
	return act_wait(s);
}

typedef enum svc_state svc_action(struct svc *s);

/* Missing entries mean the event changes nothing in that state. */
static svc_action *const table[SVC_NSTATES][SVC_NEVENTS] = {
	[SVC_DOWN] = {
		[SVC_EV_WANT] = act_wait,
		[SVC_EV_RESTART] = act_wait_if_wanted,
	},
	[SVC_WAITING] = {
		[SVC_EV_UNWANT] = act_down,
		[SVC_EV_DEPS_READY] = act_start,
	},
	[SVC_RUNNING] = {
		[SVC_EV_STOP] = act_stop,
		[SVC_EV_EXIT] = act_exited,
		[SVC_EV_RESTART] = act_restart,
	},
	[SVC_STOPPING] = {
		[SVC_EV_EXIT] = act_stopped,
		[SVC_EV_TIMER] = act_kill,
	},
	[SVC_BACKOFF] = {
		[SVC_EV_UNWANT] = act_down,
		[SVC_EV_TIMER] = act_wait,
		[SVC_EV_RESTART] = act_cancel_wait,
	},
	[SVC_FINISHED] = {
		[SVC_EV_UNWANT] = act_down,
		[SVC_EV_RESTART] = act_cancel_wait,
	},
};

static void announce(struct svc *s, enum svc_state old)
{
	switch (s->state) {
	case SVC_RUNNING:
		log_info("%s: running (pid %d)", s->spec.id, (int)s->pid);
		break;
	case SVC_BACKOFF: {
		uint64_t now = boot_ms();

		log_info("%s: %s, restarting in %llu ms", s->spec.id, s->message,
			 (unsigned long long)(s->next_start_ms > now ? s->next_start_ms - now : 0));
		break;
	}
	case SVC_FINISHED:
		log_info("%s: finished (status %d)", s->spec.id, s->last_exit);
		break;
	case SVC_DOWN:
		if (old != SVC_WAITING)
			log_info("%s: stopped", s->spec.id);
		break;
	case SVC_STOPPING:
		log_info("%s: stopping (pid %d)", s->spec.id, (int)s->pid);
		break;
	default:
		log_info("%s: %s", s->spec.id, svc_state_name(s->state));
		break;
	}
}

void svc_dispatch(struct svc *s, enum svc_event ev)
{
	svc_action *act = table[s->state][ev];
	enum svc_state old = s->state;

	if (!act)
		return;
	s->state = act(s);
	if (s->state == old)
		return;
	s->since_ms = boot_ms();
	announce(s, old);
	supervisor_notify_change(s->sup, s);
}

void svc_exited(struct svc *s, int status)
{
	if (WIFEXITED(status))
		s->last_exit = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		s->last_exit = 128 + WTERMSIG(status);
	if (WIFSIGNALED(status))
		snprintf(s->message, sizeof(s->message), "killed by signal %d", WTERMSIG(status));
	else
		s->message[0] = '\0';
	s->pid = 0;
	svc_dispatch(s, SVC_EV_EXIT);
}

/* SPDX-License-Identifier: MIT */
#include "init/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/log.h"

int supervisor_init(struct supervisor *sup, struct loop *loop, const struct cgroup_tree *cg,
		    struct spec *core, const struct supervisor_hooks *hooks)
{
	struct svc *s;
	int err;

	memset(sup, 0, sizeof(*sup));
	sup->loop = loop;
	if (cg)
		sup->cg = *cg;
	if (hooks)
		sup->hooks = *hooks;
	snprintf(sup->core_id, sizeof(sup->core_id), "%s", core->id);
	sup->svcs = calloc(1, sizeof(*sup->svcs));
	if (!sup->svcs)
		return -ENOMEM;
	err = svc_new(sup, core, &s);
	if (err < 0)
		return err;
	sup->svcs[sup->nsvcs++] = s;
	s->wanted = true;
	svc_dispatch(s, SVC_EV_WANT);
	supervisor_reconcile(sup);
	return 0;
}

void supervisor_fini(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nsvcs; i++)
		svc_free(sup->svcs[i]);
	free(sup->svcs);
	memset(sup, 0, sizeof(*sup));
}

struct svc *supervisor_find(const struct supervisor *sup, const char *id)
{
	for (size_t i = 0; i < sup->nsvcs; i++)
		if (strcmp(sup->svcs[i]->spec.id, id) == 0)
			return sup->svcs[i];
	return NULL;
}

void supervisor_notify_change(struct supervisor *sup, struct svc *s)
{
	if (sup->hooks.changed)
		sup->hooks.changed(sup->hooks.arg, s);
}

void supervisor_notify_log(struct supervisor *sup, struct svc *s)
{
	if (sup->hooks.log)
		sup->hooks.log(sup->hooks.arg, s);
}

/* Every service is ordered after the core service: started after it, stopped before it. */
static bool depends_on(const struct supervisor *sup, const struct svc *a, const struct svc *b)
{
	if (a == b)
		return false;
	if (strcmp(b->spec.id, sup->core_id) == 0)
		return true;
	return spec_depends_on(&a->spec, b->spec.id);
}

static bool deps_running(const struct supervisor *sup, const struct svc *s)
{
	for (size_t i = 0; i < sup->nsvcs; i++) {
		const struct svc *d = sup->svcs[i];

		if (depends_on(sup, s, d) && d->state != SVC_RUNNING)
			return false;
	}
	return true;
}

static bool dependents_alive(const struct supervisor *sup, const struct svc *s)
{
	for (size_t i = 0; i < sup->nsvcs; i++) {
		const struct svc *d = sup->svcs[i];

		if (depends_on(sup, d, s) && (svc_alive(d) || d->state == SVC_WAITING))
			return true;
	}
	return false;
}

bool supervisor_all_down(const struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nsvcs; i++) {
		enum svc_state st = sup->svcs[i]->state;

		if (st != SVC_DOWN && st != SVC_FINISHED)
			return false;
	}
	return true;
}

/* Frees services that were dropped from the set and have come down. */
static void collect_removed(struct supervisor *sup)
{
	size_t j = 0;

	for (size_t i = 0; i < sup->nsvcs; i++) {
		struct svc *s = sup->svcs[i];

		if (s->removed && s->state == SVC_DOWN) {
			log_info("%s: removed", s->spec.id);
			svc_free(s);
			continue;
		}
		sup->svcs[j++] = s;
	}
	sup->nsvcs = j;
}

void supervisor_reconcile(struct supervisor *sup)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < sup->nsvcs; i++) {
			struct svc *s = sup->svcs[i];
			enum svc_state before = s->state;

			if (s->state == SVC_WAITING && s->wanted && !sup->stopping_all &&
			    deps_running(sup, s))
				svc_dispatch(s, SVC_EV_DEPS_READY);
			else if (s->state == SVC_RUNNING && !s->wanted && !dependents_alive(sup, s))
				svc_dispatch(s, SVC_EV_STOP);
			changed |= s->state != before;
		}
	}
	collect_removed(sup);
	if (sup->stopping_all && supervisor_all_down(sup) && sup->hooks.all_down) {
		sup->stopping_all = false;
		sup->hooks.all_down(sup->hooks.arg);
	}
}

static void set_wanted(struct svc *s, bool wanted)
{
	if (s->wanted == wanted)
		return;
	s->wanted = wanted;
	svc_dispatch(s, wanted ? SVC_EV_WANT : SVC_EV_UNWANT);
}

static void free_specs(struct spec *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spec_fini(&set[i]);
}

/* Adopts a changed spec for an existing service. */
static void update_spec(struct supervisor *sup, struct svc *s, struct spec *sp)
{
	bool core = strcmp(s->spec.id, sup->core_id) == 0;

	s->removed = false;
	if (!spec_equal(&s->spec, sp)) {
		/* The ring keeps its size: its readers hold positions into it. */
		sp->log_ring_bytes = s->spec.log_ring_bytes;
		spec_fini(&s->spec);
		s->spec = *sp;
		memset(sp, 0, sizeof(*sp));
		/* The core service sends the set itself: restarting it here would cut it off. */
		if (core) {
			log_info("%s: spec updated, used from its next start", s->spec.id);
		} else {
			log_info("%s: spec changed, restarting", s->spec.id);
			svc_dispatch(s, SVC_EV_RESTART);
		}
	}
	set_wanted(s, true);
}

/* Entries already consumed by svc_new have a NULL id; they name new services. */
static bool in_set(const struct spec *set, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].id && strcmp(set[i].id, id) == 0)
			return true;
	return false;
}

/* Allocates the services the set adds, so that applying it cannot fail half-way. */
static int create_new(struct supervisor *sup, struct spec *set, size_t n, struct svc **fresh,
		      size_t *nfresh)
{
	struct svc **v = realloc(sup->svcs, (sup->nsvcs + n + 1) * sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	sup->svcs = v;
	*nfresh = 0;
	for (size_t i = 0; i < n; i++) {
		if (supervisor_find(sup, set[i].id))
			continue;
		err = svc_new(sup, &set[i], &fresh[*nfresh]);
		if (err < 0) {
			while (*nfresh > 0)
				svc_free(fresh[--*nfresh]);
			return err;
		}
		(*nfresh)++;
	}
	return 0;
}

int supervisor_set(struct supervisor *sup, struct spec *set, size_t n, char *err, size_t errlen)
{
	struct svc *fresh[SPEC_MAX_SERVICES];
	size_t nfresh = 0;
	int r;

	if (sup->stopping_all) {
		snprintf(err, errlen, "shutting down: service set is frozen");
		return -ESHUTDOWN;
	}
	r = spec_validate_set(set, n, sup->core_id, err, errlen);
	if (r == 0)
		r = create_new(sup, set, n, fresh, &nfresh);
	if (r < 0) {
		if (r != -EINVAL)
			snprintf(err, errlen, "apply service set: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sup->nsvcs; i++) {
		struct svc *s = sup->svcs[i];

		if (!in_set(set, n, s->spec.id)) {
			s->removed = true;
			set_wanted(s, false);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct svc *s = supervisor_find(sup, set[i].id ? set[i].id : "");

		if (s)
			update_spec(sup, s, &set[i]);
	}
	for (size_t i = 0; i < nfresh; i++) {
		sup->svcs[sup->nsvcs++] = fresh[i];
		set_wanted(fresh[i], true);
	}
	free_specs(set, n);
	supervisor_reconcile(sup);
	return 0;
}

int supervisor_restart(struct supervisor *sup, const char *id, char *err, size_t errlen)
{
	struct svc *s = supervisor_find(sup, id);

	if (!s || s->removed) {
		snprintf(err, errlen, "no service named %s", id);
		return -ENOENT;
	}
	if (!s->wanted) {
		snprintf(err, errlen, "service %s is being stopped", id);
		return -EBUSY;
	}
	log_info("%s: restart requested", id);
	svc_dispatch(s, SVC_EV_RESTART);
	supervisor_reconcile(sup);
	return 0;
}

int supervisor_signal(struct supervisor *sup, const char *id, int sig, char *err, size_t errlen)
{
	struct svc *s = supervisor_find(sup, id);

	if (!s) {
		snprintf(err, errlen, "no service named %s", id);
		return -ENOENT;
	}
	if (s->pid <= 0) {
		snprintf(err, errlen, "service %s is not running (%s)", id, svc_state_name(s->state));
		return -ESRCH;
	}
	if (kill(s->pid, sig) < 0) {
		snprintf(err, errlen, "signal %d to %s (pid %d): %s", sig, id, (int)s->pid,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

void supervisor_stop_all(struct supervisor *sup)
{
	sup->stopping_all = true;
	for (size_t i = 0; i < sup->nsvcs; i++)
		set_wanted(sup->svcs[i], false);
	supervisor_reconcile(sup);
}

void supervisor_kill_all(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->nsvcs; i++) {
		struct svc *s = sup->svcs[i];

		if (svc_alive(s)) {
			log_warnx("%s: still running at the shutdown deadline, killing", s->spec.id);
			if (sup->cg.nbase > 0)
				cgroup_signal(&sup->cg, s->spec.id, SIGKILL);
			if (s->pid > 0)
				kill(s->pid, SIGKILL);
		}
	}
}

static struct svc *find_pid(const struct supervisor *sup, pid_t pid)
{
	for (size_t i = 0; i < sup->nsvcs; i++)
		if (sup->svcs[i]->pid == pid)
			return sup->svcs[i];
	return NULL;
}

void supervisor_reap(struct supervisor *sup)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct svc *s = find_pid(sup, pid);

		if (s) {
			svc_exited(s, status);
		} else {
			sup->orphans_reaped++;
			log_debug("reaped orphan %d", (int)pid);
		}
	}
	supervisor_reconcile(sup);
}

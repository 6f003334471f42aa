/* SPDX-License-Identifier: MIT */
#include "init/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/init.pb-c.h"
#include "lib/buf.h"
#include "lib/frame.h"
#include "lib/log.h"

#define CTL_READ 65536
#define CTL_MAX_RESPONSE (CTL_MAX_QUEUED)

enum conn_mode { CONN_REQUESTS, CONN_WATCH, CONN_FOLLOW, CONN_READLOG };

struct ctl_conn {
	struct ctl_server *srv;
	int fd;
	struct loop_watch *watch;
	struct buf in, out;
	enum conn_mode mode;
	uint64_t stream_id;               /* request id of the watch or follow */
	char follow_id[SPEC_ID_MAX + 1];  /* followed service */
	uint64_t follow_pos;              /* absolute ring position sent up to */
	uint64_t read_end;                /* CONN_READLOG: position where the read ends */
	uint64_t pending_lost;            /* overwritten bytes to report with the next chunk */
	bool closing;                     /* close once out is flushed */
	bool dead;                        /* closed: only waits to be freed */
	struct ctl_conn *prev, *next;
};

/*
 * Closing a connection never frees it: a close can happen deep inside a request's own
 * handling (a SetServices notifies every watcher, the sender among them, whose write may
 * fail or overflow), and the request still holds the connection. It is unlinked, its
 * socket closed and its watch removed at once; the memory goes when the loop turn is over
 * (the reap timer, due now, fires after the turn's events).
 */
static void conn_close(struct ctl_conn *c)
{
	struct ctl_server *srv = c->srv;

	if (c->dead)
		return;
	c->dead = true;
	c->closing = true;
	loop_watch_del(srv->loop, c->watch);
	c->watch = NULL;
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	c->prev = NULL;
	c->next = srv->dead;
	srv->dead = c;
	if (!loop_timer_armed(&srv->reap))
		loop_timer_arm(srv->loop, &srv->reap, 0);
}

static void conns_reap(void *arg)
{
	struct ctl_server *srv = arg;

	while (srv->dead) {
		struct ctl_conn *c = srv->dead;

		srv->dead = c->next;
		buf_fini(&c->in);
		buf_fini(&c->out);
		free(c);
	}
}

static void conn_update_events(struct ctl_conn *c)
{
	uint32_t ev = c->closing ? 0 : EPOLLIN;

	if (c->dead)
		return;
	if (c->out.len > 0)
		ev |= EPOLLOUT;
	loop_watch_mod(c->srv->loop, c->watch, ev);
}

/* Writes what it can now; returns false if the connection was closed. */
static bool conn_flush(struct ctl_conn *c)
{
	if (c->dead)
		return false;
	while (c->out.len > 0) {
		ssize_t r = buf_write_fd(&c->out, c->fd);

		if (r == -EAGAIN)
			break;
		if (r < 0) {
			conn_close(c);
			return false;
		}
	}
	if (c->out.len == 0 && c->closing) {
		conn_close(c);
		return false;
	}
	conn_update_events(c);
	return true;
}

static void conn_send(struct ctl_conn *c, Basalt__Init__Response *resp)
{
	if (c->dead)
		return;
	if (c->out.len > CTL_MAX_QUEUED) {
		log_warnx("control: client too slow (%zu bytes queued), dropping it", c->out.len);
		c->closing = true;
		buf_clear(&c->out);
		return;
	}
	if (frame_append_msg(&c->out, &resp->base, CTL_MAX_RESPONSE) < 0)
		c->closing = true;
}

static void send_error(struct ctl_conn *c, uint64_t id, int err, const char *msg)
{
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;

	resp.id = id;
	resp.error = err;
	resp.message = (char *)msg;
	conn_send(c, &resp);
}

static void send_ok(struct ctl_conn *c, uint64_t id)
{
	send_error(c, id, 0, "");
}

static void status_fill(Basalt__Init__ServiceStatus *st, const struct svc *s)
{
	basalt__init__service_status__init(st);
	st->id = s->spec.id;
	st->state = (Basalt__Init__ServiceState)s->state;
	st->pid = (int32_t)s->pid;
	st->restarts = s->restarts;
	st->last_exit = s->last_exit;
	st->since_ms = s->since_ms;
	st->message = (char *)s->message;
	st->next_start_ms = s->state == SVC_BACKOFF ? s->next_start_ms : 0;
	st->removed = s->removed && s->state == SVC_DOWN;
}

static void send_event(struct ctl_conn *c, const struct svc *s)
{
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;
	Basalt__Init__ServiceStatus st;

	status_fill(&st, s);
	resp.id = c->stream_id;
	resp.result_case = BASALT__INIT__RESPONSE__RESULT_EVENT;
	resp.event = &st;
	conn_send(c, &resp);
}

static void do_list(struct ctl_conn *c, uint64_t id)
{
	struct supervisor *sup = c->srv->sup;
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;
	Basalt__Init__ServiceList list = BASALT__INIT__SERVICE_LIST__INIT;
	Basalt__Init__ServiceStatus st[SPEC_MAX_SERVICES + 1];
	Basalt__Init__ServiceStatus *ptrs[SPEC_MAX_SERVICES + 1];
	size_t n = 0;

	for (size_t i = 0; i < sup->nsvcs && n < SPEC_MAX_SERVICES + 1; i++) {
		status_fill(&st[n], sup->svcs[i]);
		ptrs[n] = &st[n];
		n++;
	}
	list.n_services = n;
	list.services = ptrs;
	resp.id = id;
	resp.result_case = BASALT__INIT__RESPONSE__RESULT_SERVICES;
	resp.services = &list;
	conn_send(c, &resp);
}

static void do_watch(struct ctl_conn *c, uint64_t id)
{
	struct supervisor *sup = c->srv->sup;
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;

	if (c->mode != CONN_REQUESTS) {
		send_error(c, id, EBUSY, "this connection is already streaming");
		return;
	}
	c->mode = CONN_WATCH;
	c->stream_id = id;
	for (size_t i = 0; i < sup->nsvcs; i++)
		send_event(c, sup->svcs[i]);
	resp.id = id;
	resp.result_case = BASALT__INIT__RESPONSE__RESULT_BOOTSTRAPPED;
	resp.bootstrapped = true;
	conn_send(c, &resp);
}

static void do_set(struct ctl_conn *c, uint64_t id, const Basalt__Init__SetServices *set)
{
	struct spec specs[SPEC_MAX_SERVICES];
	char err[512];
	size_t n = 0;
	int r = 0;

	if (set->n_services > SPEC_MAX_SERVICES) {
		snprintf(err, sizeof(err), "%zu services requested (at most %d)", set->n_services,
			 SPEC_MAX_SERVICES);
		send_error(c, id, EINVAL, err);
		return;
	}
	for (; n < set->n_services; n++) {
		r = spec_from_pb(&specs[n], set->services[n], err, sizeof(err));
		if (r < 0)
			break;
	}
	if (r == 0)
		r = supervisor_set(c->srv->sup, specs, n, err, sizeof(err));
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			spec_fini(&specs[i]);
		log_warnx("control: service set rejected: %s", err);
		send_error(c, id, -r, err);
		return;
	}
	send_ok(c, id);
}

/*
 * Sends ring data from follow_pos while the queue is short; the rest waits for EPOLLOUT.
 * A one-shot read ends at read_end with an empty response; a follow never ends.
 */
static void log_pump(struct ctl_conn *c)
{
	static uint8_t chunk[CTL_CHUNK];
	struct svc *s = supervisor_find(c->srv->sup, c->follow_id);

	if (!s) {
		send_error(c, c->stream_id, ENOENT, "service removed");
		c->mode = CONN_REQUESTS;
		return;
	}
	while (c->out.len < 4 * CTL_CHUNK) {
		Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;
		Basalt__Init__LogChunk lc = BASALT__INIT__LOG_CHUNK__INIT;
		uint64_t end = c->mode == CONN_READLOG ? c->read_end : s->log.head;
		size_t want = end > c->follow_pos ? sizeof(chunk) : 0;
		uint64_t lost;
		size_t n;

		if (want > end - c->follow_pos)
			want = (size_t)(end - c->follow_pos);
		n = ring_read(&s->log, &c->follow_pos, chunk, want, &lost);
		lost += c->pending_lost;
		c->pending_lost = 0;
		if (n == 0 && lost == 0)
			break;
		lc.data.data = chunk;
		lc.data.len = n;
		lc.offset = c->follow_pos - n;
		lc.lost = lost;
		resp.id = c->stream_id;
		resp.result_case = BASALT__INIT__RESPONSE__RESULT_LOG;
		resp.log = &lc;
		conn_send(c, &resp);
	}
	if (c->mode == CONN_READLOG && c->follow_pos >= c->read_end) {
		send_ok(c, c->stream_id);
		c->mode = CONN_REQUESTS;
	}
}

static void do_read_log(struct ctl_conn *c, uint64_t id, const Basalt__Init__ReadLog *rl)
{
	struct svc *s = supervisor_find(c->srv->sup, rl->id);
	uint64_t start;
	char err[128];

	if (!s) {
		snprintf(err, sizeof(err), "no service named %.64s", rl->id);
		send_error(c, id, ENOENT, err);
		return;
	}
	if (c->mode != CONN_REQUESTS) {
		send_error(c, id, EBUSY, "this connection is already streaming");
		return;
	}
	/*
	 * From the service's first byte, or tail_bytes before the end. Output the ring has
	 * overwritten is reported as lost; a read starts on a line boundary.
	 */
	start = ring_oldest(&s->log);
	c->pending_lost = start;
	if (rl->tail_bytes > 0 && s->log.head - start > rl->tail_bytes) {
		start = s->log.head - rl->tail_bytes;
		c->pending_lost = 0;
	}
	c->stream_id = id;
	c->follow_pos = ring_line_start(&s->log, start);
	c->read_end = s->log.head;
	c->mode = rl->follow ? CONN_FOLLOW : CONN_READLOG;
	snprintf(c->follow_id, sizeof(c->follow_id), "%s", s->spec.id);
	log_pump(c);
}

static int signal_number(Basalt__Init__Signal sig)
{
	switch (sig) {
	case BASALT__INIT__SIGNAL__SIGNAL_HUP:
		return SIGHUP;
	case BASALT__INIT__SIGNAL__SIGNAL_INT:
		return SIGINT;
	case BASALT__INIT__SIGNAL__SIGNAL_KILL:
		return SIGKILL;
	case BASALT__INIT__SIGNAL__SIGNAL_USR1:
		return SIGUSR1;
	case BASALT__INIT__SIGNAL__SIGNAL_USR2:
		return SIGUSR2;
	case BASALT__INIT__SIGNAL__SIGNAL_TERM:
		return SIGTERM;
	default:
		return 0;
	}
}

static void do_signal(struct ctl_conn *c, uint64_t id, const Basalt__Init__SignalService *ss)
{
	int sig = signal_number(ss->signal);
	char err[256];
	int r;

	if (sig == 0) {
		send_error(c, id, EINVAL, "unsupported signal");
		return;
	}
	r = supervisor_signal(c->srv->sup, ss->id, sig, err, sizeof(err));
	if (r < 0)
		send_error(c, id, -r, err);
	else
		send_ok(c, id);
}

static void do_restart(struct ctl_conn *c, uint64_t id, const Basalt__Init__RestartService *rs)
{
	char err[256];
	int r = supervisor_restart(c->srv->sup, rs->id, err, sizeof(err));

	if (r < 0)
		send_error(c, id, -r, err);
	else
		send_ok(c, id);
}

/* A device path init may wipe: under /dev, short, no "..", plain characters. */
static bool wipe_path_ok(const char *p)
{
	size_t len = strlen(p);

	if (len >= CTL_WIPE_PATH || strncmp(p, "/dev/", 5) != 0 || len == 5 || strstr(p, "..") || strstr(p, "//"))
		return false;
	for (size_t i = 5; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("/_-.", p[i]))
			return false;
	return true;
}

/* Returns false if c was closed. */
static bool do_power(struct ctl_conn *c, uint64_t id, const Basalt__Init__Power *p)
{
	struct ctl_server *srv = c->srv;

	if (p->action != BASALT__INIT__POWER_ACTION__POWER_REBOOT &&
	    p->action != BASALT__INIT__POWER_ACTION__POWER_OFF) {
		send_error(c, id, EINVAL, "unknown power action");
		return true;
	}
	if (p->n_wipe > CTL_WIPE_MAX) {
		send_error(c, id, EINVAL, "wipe: more than 4 devices");
		return true;
	}
	for (size_t i = 0; i < p->n_wipe; i++)
		if (!wipe_path_ok(p->wipe[i])) {
			send_error(c, id, EINVAL, "wipe: not a device path under /dev");
			return true;
		}
	/* Acknowledge before acting: the shutdown may take the caller down. */
	send_ok(c, id);
	if (!conn_flush(c))
		c = NULL;
	if (srv->power)
		srv->power(srv->power_arg, p->action, p->wipe, p->n_wipe);
	return c != NULL;
}

/* Handles one request; returns false if the connection was closed. */
static bool dispatch(struct ctl_conn *c, const Basalt__Init__Request *req)
{
	switch (req->op_case) {
	case BASALT__INIT__REQUEST__OP_SET_SERVICES:
		do_set(c, req->id, req->set_services);
		break;
	case BASALT__INIT__REQUEST__OP_LIST_SERVICES:
		do_list(c, req->id);
		break;
	case BASALT__INIT__REQUEST__OP_WATCH_SERVICES:
		do_watch(c, req->id);
		break;
	case BASALT__INIT__REQUEST__OP_READ_LOG:
		do_read_log(c, req->id, req->read_log);
		break;
	case BASALT__INIT__REQUEST__OP_SIGNAL_SERVICE:
		do_signal(c, req->id, req->signal_service);
		break;
	case BASALT__INIT__REQUEST__OP_RESTART_SERVICE:
		do_restart(c, req->id, req->restart_service);
		break;
	case BASALT__INIT__REQUEST__OP_POWER:
		return do_power(c, req->id, req->power);
	default:
		send_error(c, req->id, EOPNOTSUPP, "request names no operation");
		break;
	}
	return true;
}

/* Consumes whole frames from c->in; returns false if c was closed. */
static bool conn_process(struct ctl_conn *c)
{
	char msg[160];

	while (!c->closing) {
		Basalt__Init__Request *req;
		size_t blen;
		int r = frame_peek(buf_head(&c->in), c->in.len, CTL_MAX_REQUEST, &blen);
		bool alive;

		if (r == 0)
			break;
		if (r < 0) {
			snprintf(msg, sizeof(msg), "request exceeds %u bytes", CTL_MAX_REQUEST);
			log_warnx("control: %s, dropping client", msg);
			send_error(c, 0, EMSGSIZE, msg);
			c->closing = true;
			break;
		}
		req = basalt__init__request__unpack(NULL, blen, buf_head(&c->in) + FRAME_HDR);
		buf_consume(&c->in, FRAME_HDR + blen);
		if (!req) {
			log_warnx("control: malformed request (%zu bytes), dropping client", blen);
			send_error(c, 0, EBADMSG, "malformed request: not a basalt.init.Request");
			c->closing = true;
			break;
		}
		alive = dispatch(c, req) && !c->dead;
		basalt__init__request__free_unpacked(req, NULL);
		if (!alive)
			return false;
	}
	return conn_flush(c);
}

static void conn_on_io(void *arg, uint32_t events)
{
	struct ctl_conn *c = arg;

	if (events & EPOLLOUT) {
		if (!conn_flush(c))
			return;
		if ((c->mode == CONN_FOLLOW || c->mode == CONN_READLOG) && !c->closing) {
			log_pump(c);
			if (!conn_flush(c))
				return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t r = buf_read_fd(&c->in, c->fd, CTL_READ);

		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			if (c->in.len > 0)
				log_debug("control: client left mid-request (%zu bytes)", c->in.len);
			conn_close(c);
			return;
		}
		conn_process(c);
	}
}

int ctl_attach(struct ctl_server *srv, int fd)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = srv;
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
	err = loop_watch_add(srv->loop, fd, EPOLLIN, conn_on_io, c, &c->watch);
	if (err < 0) {
		close(fd);
		free(c);
		return err;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	return 0;
}

/* Answers and hangs up on a peer that may not use the socket. */
static void refuse(int fd, const char *why)
{
	Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;
	struct buf b;

	buf_init(&b);
	resp.error = EACCES;
	resp.message = (char *)why;
	if (frame_append_msg(&b, &resp.base, CTL_MAX_RESPONSE) == 0)
		buf_write_fd(&b, fd);
	buf_fini(&b);
	close(fd);
}

static void on_accept(void *arg, uint32_t events)
{
	struct ctl_server *srv = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char why[128];
	int fd;

	(void)events;
	while ((fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		if (cred.uid != srv->allowed_uid) {
			snprintf(why, sizeof(why), "permission denied: the control socket is root only (peer uid %u)",
				 (unsigned)cred.uid);
			log_warnx("control: refused pid %d: %s", (int)cred.pid, why);
			refuse(fd, why);
			continue;
		}
		if (srv->nconns >= CTL_MAX_CONNS) {
			refuse(fd, "too many control connections");
			continue;
		}
		ctl_attach(srv, fd);
	}
}

void ctl_init(struct ctl_server *srv, struct loop *loop, struct supervisor *sup,
	      ctl_power_fn *power, void *power_arg)
{
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->sup = sup;
	srv->lfd = -1;
	srv->power = power;
	srv->power_arg = power_arg;
	loop_timer_init(&srv->reap, conns_reap, srv);
}

int ctl_listen(struct ctl_server *srv, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			return r;
		}
	}
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0)
		goto fail;
	unlink(path);
	if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(srv->lfd, CTL_MAX_CONNS) < 0)
		goto fail;
	r = loop_watch_add(srv->loop, srv->lfd, EPOLLIN, on_accept, srv, &srv->lwatch);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (srv->lfd >= 0)
		close(srv->lfd);
	srv->lfd = -1;
	return r;
}

void ctl_fini(struct ctl_server *srv)
{
	while (srv->conns)
		conn_close(srv->conns);
	loop_timer_cancel(srv->loop, &srv->reap);
	conns_reap(srv);
	if (srv->lfd >= 0) {
		loop_watch_del(srv->loop, srv->lwatch);
		close(srv->lfd);
		unlink(srv->path);
	}
	srv->lfd = -1;
}

void ctl_service_changed(struct ctl_server *srv, struct svc *s)
{
	struct ctl_conn *c = srv->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->mode != CONN_WATCH || c->closing)
			continue;
		send_event(c, s);
		conn_flush(c);
	}
}

void ctl_notify_shutdown(struct ctl_server *srv, int action)
{
	struct ctl_conn *c = srv->conns, *next;

	for (; c; c = next) {
		Basalt__Init__Response resp = BASALT__INIT__RESPONSE__INIT;

		next = c->next;
		if (c->mode != CONN_WATCH || c->closing)
			continue;
		resp.id = c->stream_id;
		resp.result_case = BASALT__INIT__RESPONSE__RESULT_SHUTDOWN;
		resp.shutdown = (Basalt__Init__PowerAction)action;
		conn_send(c, &resp);
		conn_flush(c);
	}
}

void ctl_service_log(struct ctl_server *srv, struct svc *s)
{
	struct ctl_conn *c = srv->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->mode != CONN_FOLLOW || c->closing || strcmp(c->follow_id, s->spec.id) != 0)
			continue;
		log_pump(c);
		conn_flush(c);
	}
}

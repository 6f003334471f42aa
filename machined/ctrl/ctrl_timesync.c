/* SPDX-License-Identifier: MIT */
/*
 * TimeSyncController: an SNTP client (netctl/sntp.c) on the loop for the servers of
 * network/TimeServerStatus, reported as network/TimeStatus/time. It never holds up the
 * boot or the API: a query is a datagram and a timer. On a machine the first answer steps
 * the clock when it is off by more than a second, later ones slew it; in a container the
 * clock is the host's and is only measured. A server named by a DNS name is looked up
 * first (netctl/dns.c: A, else AAAA) at the first DNS server of network/ResolverStatus,
 * again before each query; no answer in 2 s moves on to the next server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/network.pb-c.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "machined/ctrl/controllers.h"
#include "netctl/dns.h"
#include "netctl/sntp.h"

#define SERVERS_MAX 8
#define ANSWER_MS 2000          /* a query unanswered this long has failed */
#define POLL_MS 64000           /* between answered queries */
#define STEP_NS 1000000000ll    /* a larger offset is stepped, a smaller one slewed */

static const struct rt_input inputs[] = {
	{ RES(TIMESERVER_STATUS), RT_WEAK }, { RES(MACHINE_CONFIG), RT_WEAK }, { RES(RESOLVER_STATUS), RT_WEAK },
};
static const struct rt_output outputs[] = { { RES(TIME_STATUS), RT_EXCLUSIVE } };

struct timesync {
	struct loop *loop;
	struct rt_ctrl *self;
	bool machine;
	char servers[SERVERS_MAX][256];
	size_t n, cur;                  /* the servers, and the one asked next */
	char resolver[64];              /* the DNS server names are looked up at ("" for none) */
	int fd;
	struct loop_watch *w;
	struct loop_timer timer;
	uint64_t xmit;                  /* T1 of the query out, 0 for none */
	uint16_t dns_id, dns_type;      /* the lookup out (dns_type 0 for none) */
	unsigned failures;              /* in a row */
	bool synced, adjusted;
	int64_t offset, delay;
	unsigned stratum;
	char server[256], last[32], error[320];
};

static struct timesync ts = { .fd = -1 };

static uint64_t now_ntp(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return sntp_from_timespec(&t);
}

static void close_query(struct timesync *s)
{
	if (s->w)
		loop_watch_del(s->loop, s->w);
	if (s->fd >= 0)
		close(s->fd);
	s->w = NULL;
	s->fd = -1;
	s->xmit = 0;
	s->dns_type = 0;
}

static void on_answer(void *arg, uint32_t events);
static void on_dns(struct timesync *s, const uint8_t *buf, size_t n);

static void schedule(struct timesync *s, uint64_t ms)
{
	loop_timer_cancel(s->loop, &s->timer);
	loop_timer_arm(s->loop, &s->timer, ms);
}

/* A query failed (err says why): the next server, sooner the fewer failures so far. */
static void failed(struct timesync *s, const char *err)
{
	unsigned f;

	close_query(s);
	snprintf(s->error, sizeof(s->error), "time server %s: %s", s->servers[s->cur], err);
	s->failures++;
	if (s->failures >= 3 * s->n)
		s->synced = false;
	s->cur = (s->cur + 1) % s->n;
	f = s->failures < 6 ? s->failures : 6;
	schedule(s, 500ull << f);
	rt_kick(s->self);
}

/* On a machine: the first answer steps a clock that is off by more than STEP_NS, later ones slew. */
static void adjust(struct timesync *s, int64_t off)
{
	struct timespec t;

	if (!s->machine)
		return;
	if (off > STEP_NS || off < -STEP_NS) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += off / 1000000000;
		t.tv_nsec += off % 1000000000;
		if (t.tv_nsec < 0)
			t.tv_nsec += 1000000000, t.tv_sec--;
		else if (t.tv_nsec >= 1000000000)
			t.tv_nsec -= 1000000000, t.tv_sec++;
		if (clock_settime(CLOCK_REALTIME, &t) < 0) {
			log_warn("time: step by %lld ms", (long long)(off / 1000000));
			return;
		}
		log_info("time: stepped by %lld ms (server %s)", (long long)(off / 1000000), s->server);
	} else {
		struct timeval tv = { off / 1000000000, (off % 1000000000) / 1000 };

		if (adjtime(&tv, NULL) < 0) {
			log_warn("time: slew by %lld us", (long long)(off / 1000));
			return;
		}
	}
	s->adjusted = true;
}

static void on_answer(void *arg, uint32_t events)
{
	struct timesync *s = arg;
	uint8_t buf[DNS_MSG_MAX + 64];
	struct sntp_reply r;
	char err[128];
	uint64_t t4;
	time_t now;
	struct tm tm;
	ssize_t n;

	(void)events;
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	t4 = now_ntp();
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			failed(s, strerror(errno));  /* ICMP port unreachable, say */
		return;
	}
	if (s->dns_type) {
		on_dns(s, buf, (size_t)n);
		return;
	}
	if (sntp_parse(buf, (size_t)n, s->xmit, &r, err, sizeof(err)) < 0) {
		failed(s, err);
		return;
	}
	sntp_offset(&r, t4, &s->offset, &s->delay);
	snprintf(s->server, sizeof(s->server), "%s", s->servers[s->cur]);
	s->stratum = r.stratum;
	s->synced = true;
	s->failures = 0;
	s->error[0] = '\0';
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(s->last, sizeof(s->last), "%Y-%m-%dT%H:%M:%SZ", &tm);
	close_query(s);
	adjust(s, s->offset);
	schedule(s, POLL_MS);
	rt_kick(s->self);
}

/* A socket connected to ip:port, watched; 0, or -1 with the query failed. */
static int connect_to(struct timesync *s, const struct ipaddr *ip, uint16_t port)
{
	struct sockaddr_storage sa = { 0 };
	socklen_t len;

	if (ip->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, ip->addr, 4);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, ip->addr, 16);
		len = sizeof(*in6);
	}
	s->fd = socket(ip->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, len) < 0 ||
	    loop_watch_add(s->loop, s->fd, EPOLLIN, on_answer, s, &s->w) < 0) {
		failed(s, strerror(errno));
		return -1;
	}
	return 0;
}

/* The NTP query to ip; its answer or the timer comes next. */
static void ask_ntp(struct timesync *s, const struct ipaddr *ip)
{
	uint8_t req[SNTP_PACKET];

	close_query(s);
	if (connect_to(s, ip, 123) < 0)
		return;
	s->xmit = now_ntp();
	sntp_request(req, s->xmit);
	if (send(s->fd, req, sizeof(req), 0) < 0) {
		failed(s, strerror(errno));
		return;
	}
	schedule(s, ANSWER_MS);
}

/* The lookup of the current server's name (qtype A or AAAA) at the resolver. */
static void ask_dns(struct timesync *s, uint16_t qtype)
{
	uint8_t q[DNS_MSG_MAX];
	struct ipaddr ip;
	size_t n;

	close_query(s);
	if (!s->resolver[0]) {
		failed(s, "a DNS name, and no DNS server is known to look it up (machine.network.nameservers, DHCP "
			  "or ip=)");
		return;
	}
	/* An id no one off the path can guess, so a forged answer is not taken. */
	if (getrandom(&s->dns_id, sizeof(s->dns_id), GRND_NONBLOCK) != sizeof(s->dns_id))
		s->dns_id = (uint16_t)(mono_ns() ^ (mono_ns() >> 16));
	if (!parse_ip(s->resolver, &ip) || !(n = dns_query(q, sizeof(q), s->dns_id, s->servers[s->cur], qtype))) {
		failed(s, "not a name DNS can look up");
		return;
	}
	if (connect_to(s, &ip, DNS_PORT) < 0)
		return;
	s->dns_type = qtype;
	if (send(s->fd, q, n, 0) < 0) {
		failed(s, strerror(errno));
		return;
	}
	schedule(s, ANSWER_MS);
}

/* The current server: asked at once, or its name looked up first. */
static void query(struct timesync *s)
{
	struct ipaddr ip;

	close_query(s);
	if (!s->n)
		return;
	if (parse_ip(s->servers[s->cur], &ip))
		ask_ntp(s, &ip);
	else
		ask_dns(s, DNS_TYPE_A);
}

/* The resolver's answer: the first address asked, or AAAA after an A lookup that found none. */
static void on_dns(struct timesync *s, const uint8_t *buf, size_t n)
{
	struct dns_answer a;
	struct ipaddr ip = { 0 };
	char err[160], why[256];

	if (dns_parse(buf, n, s->dns_id, s->servers[s->cur], s->dns_type, &a, err, sizeof(err)) < 0) {
		snprintf(why, sizeof(why), "looking it up at %s: %s", s->resolver, err);
		failed(s, why);
		return;
	}
	if (!a.naddr && s->dns_type == DNS_TYPE_A) {
		ask_dns(s, DNS_TYPE_AAAA);
		return;
	}
	if (!a.naddr) {
		snprintf(why, sizeof(why), "the name has no address (looked up at %s)", s->resolver);
		failed(s, why);
		return;
	}
	ip.family = s->dns_type == DNS_TYPE_A ? AF_INET : AF_INET6;
	memcpy(ip.addr, a.addr[0], ip.family == AF_INET ? 4 : 16);
	ask_ntp(s, &ip);
}

static void on_timer(void *arg)
{
	struct timesync *s = arg;

	if (s->dns_type)
		failed(s, "no answer in 2 s from the DNS server");
	else if (s->xmit)
		failed(s, "no answer in 2 s");
	else
		query(s);
}

/* The servers to ask: TimeServerStatus's, none when machine.time.disabled. */
static bool same_servers(const struct timesync *s, const Basalt__Network__TimeServerStatus *st, bool off)
{
	size_t n = off || !st ? 0 : st->n_servers < SERVERS_MAX ? st->n_servers : SERVERS_MAX;

	if (n != s->n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->servers[i], st->servers[i]) != 0)
			return false;
	return true;
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	struct timesync *s = arg;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Network__TimeServerStatus *st =
		res_spec(rt_get(ctx, RES(TIMESERVER_STATUS), "timeservers"), RES(TIMESERVER_STATUS));
	bool off = cfg && cfg->machine && cfg->machine->time && cfg->machine->time->has_disabled &&
		   cfg->machine->time->disabled;
	const Basalt__Network__ResolverStatus *rs =
		res_spec(rt_get(ctx, RES(RESOLVER_STATUS), "resolvers"), RES(RESOLVER_STATUS));
	Basalt__Network__TimeStatus *t;

	snprintf(s->resolver, sizeof(s->resolver), "%s", rs && rs->n_dnsservers ? rs->dnsservers[0] : "");
	if (!same_servers(s, st, off)) {
		s->n = 0;
		for (size_t i = 0; !off && st && i < st->n_servers && i < SERVERS_MAX; i++)
			snprintf(s->servers[s->n++], sizeof(s->servers[0]), "%s", st->servers[i]);
		s->cur = s->failures = 0;
		s->synced = false;
		s->error[0] = '\0';
		close_query(s);
		loop_timer_cancel(s->loop, &s->timer);
		if (s->n)
			query(s);
	}
	if (!(t = malloc(sizeof(*t))))
		return -ENOMEM;
	basalt__network__time_status__init(t);
	t->synced = s->synced;
	t->offsetns = s->synced ? s->offset : 0;
	t->delayns = s->synced ? s->delay : 0;
	t->server = strdup(s->synced ? s->server : "");
	t->stratum = s->synced ? s->stratum : 0;
	t->lastsync = strdup(s->last);
	t->adjusted = s->adjusted;
	t->error = strdup(off ? "time sync is off (machine.time.disabled)" :
			  !s->n ? "no time servers (machine.time.servers, DHCP or ip=)" : s->error);
	return rt_apply(ctx, res_new(RES(TIME_STATUS), "time", &t->base));
}

static void *state(const struct ctrl_env *env)
{
	(void)env;
	return &ts;
}

static int start(void *st, const struct ctrl_env *env, struct rt_ctrl *self)
{
	struct timesync *s = st;

	s->loop = env->loop;
	s->self = self;
	s->machine = env->machine;
	s->fd = -1;
	loop_timer_init(&s->timer, on_timer, s);
	return 0;
}

static void fini(void *st)
{
	struct timesync *s = st;

	close_query(s);
	if (s->loop)
		loop_timer_cancel(s->loop, &s->timer);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

const struct ctrl_def ctrl_timesync = {
	.rt = { .name = "TimeSyncController", .inputs = inputs, .ninputs = 2, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
	.shared = state,
	.init = start,
	.fini = fini,
	.touches_machine = true,
};

/* SPDX-License-Identifier: MIT */
/*
 * machined core benchmark, one process, references measured alongside:
 *  - store updates/s with 0, 10 and 100 watchers, against a plain array whose entries are
 *    replaced in place (no versions, owners, immutability or events): the floor;
 *  - watch event latency (write to watcher callback), against the loop's own wakeup
 *    (a zero-delay timer to its callback);
 *  - parse + decode + validate of a 2,000-line config, against libfyaml parsing alone.
 * Prints "key value" lines for tests/bench/machined.sh to tabulate.
 */
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/runtime.pb-c.h"
#include "lib/atomicfile.h"
#include "lib/mconfig.h"
#include "machined/core/store.h"

#define NRES 100
#define UPDATES 200000
#define LAT_SAMPLES 20000

/* The bench's one type: Service specs in a namespace of its own. */
static const struct res_type svc_t = { 0, "bench", "Svc", &basalt__runtime__service__descriptor, { 0 }, false, { { 0 } } };
static const struct res_type *const types[] = { &svc_t };

static struct loop *loop;
static struct store *st;
static uint64_t events_seen, got_ns;

static ProtobufCMessage *spec(unsigned i)
{
	Basalt__Runtime__Service *s = malloc(sizeof(*s));
	char msg[32];

	basalt__runtime__service__init(s);
	snprintf(msg, sizeof(msg), "update %u", i);
	s->message = strdup(msg);
	s->state = strdup("running");
	s->pid = (int)i;
	return &s->base;
}

static void drain(void *arg, struct watch *w)
{
	struct watch_event ev;

	(void)arg;
	while (watch_next(w, &ev)) {
		events_seen++;
		watch_event_done(&ev);
	}
	got_ns = mono_ns();
}

static double store_rate(int watchers)
{
	struct watch *ws[100];
	struct watch_opts o = { .type = &svc_t, .tail = true, .ready = drain };
	char err[256], id[16];
	uint64_t t0;
	double secs;

	for (int i = 0; i < watchers; i++)
		store_watch(st, &o, &ws[i], err, sizeof(err));
	events_seen = 0;
	t0 = mono_ns();
	for (unsigned i = 0; i < UPDATES; i++) {
		struct res *r;

		snprintf(id, sizeof(id), "r%03u", i % NRES);
		r = res_new(&svc_t, id, spec(i));
		r->version = store_get(st, &svc_t, id)->version;
		if (store_update(st, "bench", r, err, sizeof(err)) < 0)
			abort();
		if (i % 64 == 63)
			loop_run_once(loop, 0);
	}
	loop_run_once(loop, 0);
	secs = (double)(mono_ns() - t0) / 1e9;
	if (events_seen != (uint64_t)watchers * UPDATES)
		fprintf(stderr, "storebench: %llu events for %d watchers (expected %llu)\n",
			(unsigned long long)events_seen, watchers, (unsigned long long)watchers * UPDATES);
	for (int i = 0; i < watchers; i++)
		watch_close(ws[i]);
	return UPDATES / secs;
}

/* The floor: the same specs, replaced in place in an array. */
static double floor_rate(void)
{
	ProtobufCMessage *slots[NRES] = { 0 };
	uint64_t t0 = mono_ns();
	double secs;

	for (unsigned i = 0; i < UPDATES; i++) {
		ProtobufCMessage *old = slots[i % NRES];

		slots[i % NRES] = spec(i);
		if (old)
			protobuf_c_message_free_unpacked(old, NULL);
	}
	secs = (double)(mono_ns() - t0) / 1e9;
	for (int i = 0; i < NRES; i++)
		protobuf_c_message_free_unpacked(slots[i], NULL);
	return UPDATES / secs;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void fired(void *arg)
{
	(void)arg;
	got_ns = mono_ns();
}

/* Write-to-callback latency over a real loop; and the loop's own timer(0) wakeup. */
static void latency(uint64_t *med, uint64_t *p99, uint64_t *fmed, uint64_t *fp99)
{
	static uint64_t lat[LAT_SAMPLES], flo[LAT_SAMPLES];
	struct watch_opts o = { .type = &svc_t, .id = "r000", .tail = true, .ready = drain };
	struct loop_timer t;
	struct watch *w;
	char err[256];

	store_watch(st, &o, &w, err, sizeof(err));
	loop_timer_init(&t, fired, NULL);
	for (unsigned i = 0; i < LAT_SAMPLES; i++) {
		struct res *r = res_new(&svc_t, "r000", spec(i));
		uint64_t t0;

		r->version = store_get(st, &svc_t, "r000")->version;
		got_ns = 0;
		t0 = mono_ns();
		store_update(st, "bench", r, err, sizeof(err));
		while (!got_ns)
			loop_run_once(loop, 10);
		lat[i] = got_ns - t0;
		got_ns = 0;
		t0 = mono_ns();
		loop_timer_arm(loop, &t, 0);
		while (!got_ns)
			loop_run_once(loop, 10);
		flo[i] = got_ns - t0;
	}
	watch_close(w);
	qsort(lat, LAT_SAMPLES, sizeof(lat[0]), cmp_u64);
	qsort(flo, LAT_SAMPLES, sizeof(flo[0]), cmp_u64);
	*med = lat[LAT_SAMPLES / 2];
	*p99 = lat[LAT_SAMPLES * 99 / 100];
	*fmed = flo[LAT_SAMPLES / 2];
	*fp99 = flo[LAT_SAMPLES * 99 / 100];
}

/* The test CA's crt or key (base64) from the config corpus: a valid config needs machine.ca. */
static const char *test_ca(const char *field)
{
	static char val[2][4096];
	char *text = NULL, pat[16], *p;
	size_t n, i = strcmp(field, "key") == 0;

	if (!val[i][0]) {
		snprintf(pat, sizeof(pat), "\n    %s: ", field);
		if (read_file("tests/data/config/valid/minimal-worker.yaml", 1 << 16, &text, &n) < 0 ||
		    !(p = strstr(text, pat))) {
			fprintf(stderr, "storebench: no machine.ca.%s in tests/data/config/valid/minimal-worker.yaml\n", field);
			exit(1);
		}
		p += strlen(pat);
		snprintf(val[i], sizeof(val[i]), "%.*s", (int)strcspn(p, "\n"), p);
		free(text);
	}
	return val[i];
}

/* A valid config of exactly `lines` lines: many interfaces with addresses and routes. */
static char *big_config(int lines, size_t *len)
{
	size_t cap = (size_t)lines * 64, n = 0;
	char *s = malloc(cap);
	int l = 0, i = 0;

#define EMIT(...) (n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__), l++)
	EMIT("version: v1alpha1\n");
	EMIT("cluster:\n");
	EMIT("  name: demo\n");
	EMIT("  controlPlane:\n");
	EMIT("    endpoint: https://10.0.0.100:6443\n");
	EMIT("machine:\n");
	EMIT("  type: worker\n");
	EMIT("  ca:\n");
	EMIT("    crt: %s\n", test_ca("crt"));
	EMIT("    key: %s\n", test_ca("key"));
	EMIT("  network:\n");
	EMIT("    interfaces:\n");
	while (l + 9 <= lines) {
		EMIT("      - interface: eth%d\n", i);
		EMIT("        mtu: 1500\n");
		EMIT("        addresses:\n");
		EMIT("          - 10.%d.%d.2/24\n", i / 250, i % 250);
		EMIT("          - fd00:%x::2/64\n", i);
		EMIT("        routes:\n");
		EMIT("          - network: 10.%d.%d.0/24\n", 100 + i / 250, i % 250);
		EMIT("            gateway: 10.%d.%d.1\n", i / 250, i % 250);
		EMIT("            metric: %d\n", 100 + i);
		i++;
	}
	while (l < lines)
		EMIT("# padding\n");
#undef EMIT
	*len = n;
	return s;
}

static void parse_times(double *ms_full, double *ms_floor)
{
	size_t len;
	char *text = big_config(2000, &len);
	uint64_t t0, best_full = UINT64_MAX, best_floor = UINT64_MAX;

	for (int rep = 0; rep < 20; rep++) {
		Basalt__Config__Config *cfg = NULL;
		struct fy_document *fyd;
		struct diag d;

		diag_init(&d);
		t0 = mono_ns();
		if (mconfig_load("bench.yaml", text, len, NULL, 0, &cfg, &d) < 0) {
			char *m = diag_format(&d);

			fprintf(stderr, "storebench: generated config is invalid:\n%s", m);
			exit(1);
		}
		if (mono_ns() - t0 < best_full)
			best_full = mono_ns() - t0;
		mconfig_free(cfg);
		diag_fini(&d);
		t0 = mono_ns();
		fyd = fy_document_build_from_string(NULL, text, len);
		if (mono_ns() - t0 < best_floor)
			best_floor = mono_ns() - t0;
		fy_document_destroy(fyd);
	}
	*ms_full = (double)best_full / 1e6;
	*ms_floor = (double)best_floor / 1e6;
	free(text);
}

int main(void)
{
	uint64_t med, p99, fmed, fp99;
	double full, parse_floor;
	char err[256], id[16];

	if (loop_new(&loop) < 0 || store_new(loop, types, 1, &st) < 0)
		return 1;
	for (unsigned i = 0; i < NRES; i++) {
		snprintf(id, sizeof(id), "r%03u", i);
		store_create(st, "bench", res_new(&svc_t, id, spec(i)), err, sizeof(err));
	}
	printf("floor_updates_per_s %.0f\n", floor_rate());
	printf("updates_per_s_0 %.0f\n", store_rate(0));
	printf("updates_per_s_10 %.0f\n", store_rate(10));
	printf("updates_per_s_100 %.0f\n", store_rate(100));
	latency(&med, &p99, &fmed, &fp99);
	printf("watch_latency_us_median %.1f\n", (double)med / 1e3);
	printf("watch_latency_us_p99 %.1f\n", (double)p99 / 1e3);
	printf("loop_wakeup_us_median %.1f\n", (double)fmed / 1e3);
	printf("loop_wakeup_us_p99 %.1f\n", (double)fp99 / 1e3);
	parse_times(&full, &parse_floor);
	printf("config_2000_lines_ms %.2f\n", full);
	printf("fyaml_parse_2000_lines_ms %.2f\n", parse_floor);
	store_free(st);
	loop_free(loop);
	return 0;
}

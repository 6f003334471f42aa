/* SPDX-License-Identifier: MIT */
#include "lib/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64
#define LOOP_NSIG 65

struct loop_watch {
	int fd;
	uint32_t events;  /* what epoll watches for now */
	loop_io_fn *fn;  /* NULL once deleted; freed after the batch */
	void *arg;
	struct loop_watch *next_dead;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_timer **heap;  /* min-heap on due_ns */
	size_t nheap, capheap;
	struct loop_watch *dead;   /* deleted watches awaiting the end of the batch */
	int sigfd;
	struct loop_watch *sigwatch;
	sigset_t sigmask;
	struct {
		loop_signal_fn *fn;
		void *arg;
	} sig[LOOP_NSIG];
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

uint64_t boot_ms(void)
{
	return clock_ns(CLOCK_BOOTTIME) / 1000000u;
}

int loop_new(struct loop **out)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = -errno;

		free(loop);
		return err;
	}
	*out = loop;
	return 0;
}

static void loop_reap_dead(struct loop *loop)
{
	while (loop->dead) {
		struct loop_watch *w = loop->dead;

		loop->dead = w->next_dead;
		free(w);
	}
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	if (loop->sigwatch)
		loop_watch_del(loop, loop->sigwatch);
	loop_reap_dead(loop);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

int loop_watch_add(struct loop *loop, int fd, uint32_t events, loop_io_fn *fn, void *arg,
		   struct loop_watch **out)
{
	struct epoll_event ev = { .events = events };
	struct loop_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	if (out)
		*out = w;
	return 0;
}

int loop_watch_mod(struct loop *loop, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	/* Callers may ask on every wakeup; the kernel hears only of changes. */
	if (events == w->events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void loop_watch_del(struct loop *loop, struct loop_watch *w)
{
	if (!w || !w->fn)
		return;
	/* The fd may already be closed by its owner; the kernel dropped it from epoll then. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fn = NULL;
	w->next_dead = loop->dead;
	loop->dead = w;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg)
{
	t->due_ns = 0;
	t->heap_idx = SIZE_MAX;
	t->fn = fn;
	t->arg = arg;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

static void heap_set(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (loop->heap[parent]->due_ns <= t->due_ns)
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && loop->heap[c + 1]->due_ns < loop->heap[c]->due_ns)
			c++;
		if (t->due_ns <= loop->heap[c]->due_ns)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	size_t i = t->heap_idx;

	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	loop->nheap--;
	if (i == loop->nheap)
		return;
	struct loop_timer *moved = loop->heap[loop->nheap];

	heap_set(loop, i, moved);
	heap_up(loop, i);
	heap_down(loop, moved->heap_idx);
}

int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_cancel(loop, t);
	if (loop->nheap == loop->capheap) {
		size_t cap = loop->capheap ? loop->capheap * 2 : 16;
		struct loop_timer **h = realloc(loop->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		loop->heap = h;
		loop->capheap = cap;
	}
	t->due_ns = mono_ns() + delay_ms * 1000000u;
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, loop->nheap - 1);
	return 0;
}

static void loop_on_signal(void *arg, uint32_t events)
{
	struct loop *loop = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < LOOP_NSIG && loop->sig[si.ssi_signo].fn)
			loop->sig[si.ssi_signo].fn(loop->sig[si.ssi_signo].arg, &si);
	}
}

int loop_signal(struct loop *loop, int signo, loop_signal_fn *fn, void *arg)
{
	int fd, err;

	if (signo <= 0 || signo >= LOOP_NSIG)
		return -EINVAL;
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (loop->sigfd < 0) {
		loop->sigfd = fd;
		err = loop_watch_add(loop, fd, EPOLLIN, loop_on_signal, loop, &loop->sigwatch);
		if (err < 0)
			return err;
	}
	loop->sig[signo].fn = fn;
	loop->sig[signo].arg = arg;
	return 0;
}

static void loop_fire_timers(struct loop *loop)
{
	uint64_t now = mono_ns();

	while (loop->nheap > 0 && loop->heap[0]->due_ns <= now) {
		struct loop_timer *t = loop->heap[0];

		loop_timer_cancel(loop, t);
		t->fn(t->arg);
	}
}

static int loop_timeout(struct loop *loop, int timeout_ms)
{
	uint64_t now, due;
	int64_t ms;

	if (loop->nheap == 0)
		return timeout_ms;
	now = mono_ns();
	due = loop->heap[0]->due_ns;
	ms = due <= now ? 0 : (int64_t)((due - now + 999999u) / 1000000u);
	if (timeout_ms >= 0 && timeout_ms < ms)
		return timeout_ms;
	return ms > 86400000 ? 86400000 : (int)ms;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n;

	n = epoll_wait(loop->epfd, evs, LOOP_BATCH, loop_timeout(loop, timeout_ms));
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;

		if (w->fn)
			w->fn(w->arg, evs[i].events);
	}
	loop_reap_dead(loop);
	loop_fire_timers(loop);
	loop_reap_dead(loop);
	return 0;
}

int loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int err = loop_run_once(loop, -1);

		if (err < 0)
			return err;
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

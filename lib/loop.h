/* SPDX-License-Identifier: MIT */
/*
 * One epoll event loop per process: fd watches, monotonic timers, signals via signalfd.
 * Callbacks run on the loop; nothing here blocks except epoll_wait itself.
 */
#ifndef BASALT_LOOP_H
#define BASALT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

struct loop;
struct loop_watch;

typedef void loop_io_fn(void *arg, uint32_t events);
typedef void loop_timer_fn(void *arg);
typedef void loop_signal_fn(void *arg, const struct signalfd_siginfo *si);

/* Embedded in its owner. Initialise with loop_timer_init before arming. */
struct loop_timer {
	uint64_t due_ns;  /* monotonic deadline while armed */
	size_t heap_idx;  /* position in the loop's heap, SIZE_MAX when idle */
	loop_timer_fn *fn;
	void *arg;
};

uint64_t mono_ns(void);
uint64_t mono_ms(void);
/* CLOCK_BOOTTIME in milliseconds: the kernel's uptime, counting suspend. */
uint64_t boot_ms(void);

int loop_new(struct loop **out);
void loop_free(struct loop *loop);

/* Watches fd for events (EPOLLIN/EPOLLOUT...). The loop never closes fd. */
int loop_watch_add(struct loop *loop, int fd, uint32_t events, loop_io_fn *fn, void *arg,
		   struct loop_watch **out);
int loop_watch_mod(struct loop *loop, struct loop_watch *w, uint32_t events);
/* Safe from inside any callback, including w's own; w is freed after the current batch. */
void loop_watch_del(struct loop *loop, struct loop_watch *w);

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg);
/* (Re)arms t to fire once, delay_ms from now. */
int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* Blocks signo and delivers it to fn through the loop's signalfd. */
int loop_signal(struct loop *loop, int signo, loop_signal_fn *fn, void *arg);

/* Runs one epoll_wait (at most timeout_ms, -1 = until an event or timer) and dispatches. */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Runs until loop_stop; returns 0, or -errno if epoll itself fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif

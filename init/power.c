/* SPDX-License-Identifier: MIT */
#include "init/power.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/input.h>

#include "lib/log.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))

static bool has_power_key(int fd)
{
	unsigned long keys[KEY_MAX / BITS_PER_LONG + 1];

	memset(keys, 0, sizeof(keys));
	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0)
		return false;
	return (keys[KEY_POWER / BITS_PER_LONG] >> (KEY_POWER % BITS_PER_LONG)) & 1;
}

size_t power_key_presses(const void *events, size_t n)
{
	size_t presses = 0;

	for (size_t off = 0; off + sizeof(struct input_event) <= n; off += sizeof(struct input_event)) {
		struct input_event ev;

		memcpy(&ev, (const char *)events + off, sizeof(ev));
		presses += ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1;
	}
	return presses;
}

static void on_event(void *arg, uint32_t events)
{
	struct power_dev *d = arg;
	struct input_event ev[16];
	ssize_t n;

	(void)events;
	while ((n = read(d->fd, ev, sizeof(ev))) > 0)
		for (size_t k = power_key_presses(ev, (size_t)n); k > 0; k--)
			d->pw->fn(d->pw->arg);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* The device went away. */
		loop_watch_del(d->pw->loop, d->watch);
		close(d->fd);
		d->fd = -1;
	}
}

static void try_add(struct power_watch *pw, const char *name)
{
	char path[128];
	struct power_dev *d = NULL;
	int fd;

	if (strncmp(name, "event", 5) != 0 || strlen(name) >= sizeof(d->name))
		return;
	for (size_t i = 0; i < pw->ndevs; i++) {
		if (pw->devs[i].fd >= 0 && strcmp(pw->devs[i].name, name) == 0)
			return;
		if (pw->devs[i].fd < 0)
			d = &pw->devs[i];
	}
	if (!d && pw->ndevs == POWER_MAX_DEVICES)
		return;
	snprintf(path, sizeof(path), "%s/%s", pw->dir, name);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!has_power_key(fd)) {
		close(fd);
		return;
	}
	if (!d)
		d = &pw->devs[pw->ndevs++];
	d->fd = fd;
	d->pw = pw;
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (loop_watch_add(pw->loop, fd, EPOLLIN, on_event, d, &d->watch) < 0) {
		close(fd);
		d->fd = -1;
		return;
	}
	log_info("power button: watching %s", path);
}

size_t power_inotify_names(const void *records, size_t n, power_name_fn *fn, void *arg)
{
	const char *p = records;
	size_t off = 0, names = 0;

	while (n - off >= sizeof(struct inotify_event)) {
		struct inotify_event ie;
		const char *name = p + off + sizeof(ie);

		memcpy(&ie, p + off, sizeof(ie));
		if (ie.len > n - off - sizeof(ie))
			break;
		if (ie.len > 0) {
			if (!memchr(name, '\0', ie.len))
				break;
			fn(arg, name);
			names++;
		}
		off += sizeof(ie) + ie.len;
	}
	return names;
}

static void add_named(void *arg, const char *name)
{
	try_add(arg, name);
}

static void on_inotify(void *arg, uint32_t events)
{
	struct power_watch *pw = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(pw->inotify_fd, buf, sizeof(buf))) > 0)
		power_inotify_names(buf, (size_t)n, add_named, pw);
}

int power_watch_start(struct power_watch *pw, struct loop *loop, const char *dir,
		      power_button_fn *fn, void *arg)
{
	DIR *d;
	struct dirent *de;
	size_t found = 0;

	memset(pw, 0, sizeof(*pw));
	pw->loop = loop;
	pw->fn = fn;
	pw->arg = arg;
	pw->inotify_fd = -1;
	snprintf(pw->dir, sizeof(pw->dir), "%s", dir);
	pw->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->inotify_fd >= 0 &&
	    (inotify_add_watch(pw->inotify_fd, dir, IN_CREATE | IN_ATTRIB) < 0 ||
	     loop_watch_add(loop, pw->inotify_fd, EPOLLIN, on_inotify, pw, &pw->inotify_watch) < 0)) {
		close(pw->inotify_fd);
		pw->inotify_fd = -1;
	}
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL)
		try_add(pw, de->d_name);
	closedir(d);
	for (size_t i = 0; i < pw->ndevs; i++)
		found += pw->devs[i].fd >= 0;
	return (int)found;
}

void power_watch_stop(struct power_watch *pw)
{
	for (size_t i = 0; i < pw->ndevs; i++) {
		if (pw->devs[i].fd < 0)
			continue;
		loop_watch_del(pw->loop, pw->devs[i].watch);
		close(pw->devs[i].fd);
		pw->devs[i].fd = -1;
	}
	if (pw->inotify_fd >= 0) {
		loop_watch_del(pw->loop, pw->inotify_watch);
		close(pw->inotify_fd);
		pw->inotify_fd = -1;
	}
}

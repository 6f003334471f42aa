/* SPDX-License-Identifier: MIT */
#include "lib/fspath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define SAY(...) (snprintf(err, errlen, __VA_ARGS__), -1)

int fspath_split(const char *path, const char *const *trees, size_t n, struct fspath *out, char *err,
		 size_t errlen)
{
	size_t len = strnlen(path, FSPATH_MAX), rl = 0, fl = 0;
	const char *p = path;
	bool first = true;

	if (len >= FSPATH_MAX)
		return SAY("the path is longer than %d bytes", FSPATH_MAX - 1);
	if (path[0] != '/')
		return SAY("%.200s: not an absolute path", path);
	out->rel[0] = '\0';
	while (*p) {
		const char *s;
		size_t cl;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - s);
		if (cl == 0 || (cl == 1 && s[0] == '.'))
			continue;
		if (cl == 2 && s[0] == '.' && s[1] == '.')
			return SAY("%.200s: \"..\" is refused (a path names its file from the top of its tree)", path);
		if (first) {
			size_t t;

			for (t = 0; t < n; t++)
				if (strlen(trees[t]) == cl && memcmp(trees[t], s, cl) == 0)
					break;
			if (t == n)
				break;
			out->tree = t;
			first = false;
		} else {
			if (rl)
				out->rel[rl++] = '/';
			memcpy(out->rel + rl, s, cl);
			rl += cl;
		}
		out->full[fl++] = '/';
		memcpy(out->full + fl, s, cl);
		fl += cl;
	}
	if (first) {
		char names[256] = "";
		size_t nl = 0;

		for (size_t t = 0; t < n && nl < sizeof(names); t++)
			nl += (size_t)snprintf(names + nl, sizeof(names) - nl, "%s/%s", t ? (t + 1 == n ? " and " : ", ") : "",
					       trees[t]);
		return SAY("%.200s: only files under %s are served", path, names);
	}
	if (!rl)
		out->rel[rl++] = '.';
	out->rel[rl] = '\0';
	out->full[fl] = '\0';
	return 0;
}

static bool digits(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The first part of s (up to '/' or the end) equals one of words, |-separated. */
static bool part_is(const char *s, size_t len, const char *words)
{
	for (const char *w = words; *w;) {
		size_t wl = strcspn(w, "|");

		if (wl == len && memcmp(w, s, len) == 0)
			return true;
		w += wl + (w[wl] == '|');
	}
	return false;
}

const char *fspath_denied(const char *tree, const struct fspath *p)
{
	const char *parts[4], *s = p->rel;
	size_t lens[4], np = 0;

	if (strcmp(tree, "proc") != 0)
		return NULL;
	while (*s && np < 4) {
		size_t l = strcspn(s, "/");

		parts[np] = s;
		lens[np++] = l;
		s += l + (s[l] == '/');
	}
	if (*s)
		return NULL;  /* deeper than any refused file */
	if (np == 1 && (part_is(parts[0], lens[0], "kcore|kmsg|kpagecount|kpageflags|kpagecgroup|vmcore|sysrq-trigger")))
		return "kernel memory and the kernel's log buffer are not served (osctl dmesg reads the log)";
	/* PID/mem, self/pagemap, PID/task/TID/mem, ... */
	if (np >= 2 && (digits(parts[0], lens[0]) || part_is(parts[0], lens[0], "self|thread-self"))) {
		size_t last = np - 1;

		if (np == 4 && !(part_is(parts[1], lens[1], "task") && digits(parts[2], lens[2])))
			return NULL;
		if (np == 3)
			return NULL;
		if (part_is(parts[last], lens[last], "mem|pagemap|clear_refs"))
			return "a process's memory is not served";
	}
	return NULL;
}

int fspath_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int fspath_mkdirs(int dirfd, const char *rel, mode_t mode)
{
	int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	const char *s = rel;

	if (cur < 0)
		return -errno;
	while (*s) {
		char part[256];
		size_t l = strcspn(s, "/");
		int next;

		if (l >= sizeof(part)) {
			close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(part, s, l);
		part[l] = '\0';
		s += l + (s[l] == '/');
		if (l == 0 || strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			close(cur);
			return -EXDEV;
		}
		if (mkdirat(cur, part, mode) < 0 && errno != EEXIST) {
			int e = -errno;

			close(cur);
			return e;
		}
		next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		if (next < 0)
			return errno == ELOOP ? -ENOTDIR : -errno;
		cur = next;
	}
	return cur;
}

/* SPDX-License-Identifier: MIT */
/*
 * The persisted machine config as machined finds it on boot (machined/ctrl/cfgstate.c): each
 * file a "# basalt-config sha256=<hex> len=<n>" line, then the text. One input is a mode
 * byte, then the file contents: mode 0 writes it all as config.yaml; mode 1 splits it at
 * the first NUL into config.yaml and config.yaml.prev; mode 2 writes only .prev. Then
 * cfgstate_load, then a save of the same bytes, which must load back unchanged.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machined/ctrl/cfgstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-cfgstate-XXXXXX";

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void remove_files(void)
{
	char p[64];

	path_of(p, sizeof(p), CFGSTATE_CURRENT);
	unlink(p);
	path_of(p, sizeof(p), CFGSTATE_PREVIOUS);
	unlink(p);
}

static void cleanup(void)
{
	remove_files();
	rmdir(dir);
}

/* A plain (not atomic) write: the harness plays a disk holding whatever it holds. */
static void put(const char *name, const uint8_t *p, size_t n)
{
	char path[64];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* A body that loads is the tail of one of the files, NUL-terminated. */
static bool is_tail(const char *text, size_t len, const uint8_t *f, size_t flen)
{
	return f && len <= flen && memcmp(text, f + flen - len, len) == 0;
}

static void load(const uint8_t *cur, size_t curlen, const uint8_t *prev, size_t prevlen)
{
	char *text = NULL, report[512];
	size_t len = 0;

	if (cfgstate_load(dir, &text, &len, report, sizeof(report)) != 0)
		return;
	if (text[len] != '\0' || len > CFGSTATE_MAX ||
	    !(is_tail(text, len, cur, curlen) || is_tail(text, len, prev, prevlen)))
		abort();
	free(text);
}

static void round_trip(const uint8_t *p, size_t n)
{
	char *text = NULL, report[512], err[256];
	size_t len = 0;

	if (cfgstate_save(dir, (const char *)p, n, err, sizeof(err)) != 0)
		abort();
	if (cfgstate_load(dir, &text, &len, report, sizeof(report)) != 0)
		abort();
	/* What was just saved is the current copy: no fallback, same bytes. */
	if (len != n || memcmp(text, p, n) != 0 || report[0] != '\0')
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cur = NULL, *prev = NULL, *nul;
	size_t curlen = 0, prevlen = 0;
	static bool made;

	if (!made) {
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		made = true;
	}
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		cur = data + 1;
		curlen = size - 1;
		break;
	case 1:
		nul = memchr(data + 1, '\0', size - 1);
		cur = data + 1;
		curlen = nul ? (size_t)(nul - cur) : size - 1;
		prev = nul ? nul + 1 : data + size;
		prevlen = size - 1 - curlen - (nul ? 1 : 0);
		break;
	default:
		prev = data + 1;
		prevlen = size - 1;
		break;
	}
	remove_files();
	if (cur)
		put(CFGSTATE_CURRENT, cur, curlen);
	if (prev)
		put(CFGSTATE_PREVIOUS, prev, prevlen);
	load(cur, curlen, prev, prevlen);
	round_trip(data + 1, size - 1);
	remove_files();
	return 0;
}

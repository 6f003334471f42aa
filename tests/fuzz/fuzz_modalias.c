/* SPDX-License-Identifier: MIT */
/*
 * Coldplug's alias lookup (init/kmod.c): a device's modalias, as the kernel gives it in
 * sysfs, matched against every modules.alias pattern. One input is modules.alias text, a
 * NUL, then the modalias (cut at its first newline and at 511 bytes, as read from sysfs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init/kmod.h"

#define MODALIAS_MAX 511

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	const struct kmod_db *db;
	int calls;
	int stop_at;  /* returns < 0 on this call, to cover the early stop */
};

static int noop_loader(void *arg, const char *path)
{
	(void)arg;
	(void)path;
	return 0;
}

static int count_match(void *arg, const char *module)
{
	struct count *c = arg;
	size_t i = 0;

	/* Whatever matched must be one of the db's own module names. */
	while (i < c->db->naliases && c->db->aliases[i].module != module)
		i++;
	if (i == c->db->naliases)
		abort();
	return ++c->calls == c->stop_at ? -1 : 0;
}

static void match(const struct kmod_db *db, const char *modalias, int stop_at)
{
	struct count c = { .db = db, .stop_at = stop_at };
	int n = kmod_match_alias(db, modalias, count_match, &c);

	/* The count returned is the count of callbacks made, early stop or not. */
	if (n != c.calls || (stop_at > 0 && n > stop_at))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), modalias[MODALIAS_MAX + 1], err[256];
	const char *rest;
	struct kmod_db db;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	rest = text + strlen(text) + 1;
	memcpy(modalias, rest, strnlen(rest, MODALIAS_MAX));
	modalias[strnlen(rest, MODALIAS_MAX)] = '\0';
	modalias[strcspn(modalias, "\n")] = '\0';
	kmod_db_init(&db);
	db.loader = noop_loader;
	if (kmod_db_parse_alias(&db, text, err, sizeof(err)) == 0) {
		match(&db, modalias, 0);
		match(&db, modalias, 1);
	}
	kmod_db_fini(&db);
	free(text);
	return 0;
}

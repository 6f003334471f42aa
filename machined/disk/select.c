/* SPDX-License-Identifier: MIT */
/* Disk selectors: see select.h. */
#include "machined/disk/select.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"

static bool size_matches(uint64_t have, const char *want, bool *bad)
{
	const char *p = want;
	char op[3] = "";
	size_t k = 0;
	uint64_t b;

	while (*p == ' ')
		p++;
	while ((*p == '<' || *p == '>' || *p == '=') && k < 2)
		op[k++] = *p++;
	op[k] = '\0';
	while (*p == ' ')
		p++;
	if (!parse_size(p, &b) || (k && strcmp(op, "<=") && strcmp(op, ">=") && strcmp(op, "<") && strcmp(op, ">") &&
				    strcmp(op, "==") && strcmp(op, "="))) {
		*bad = true;
		return false;
	}
	if (!strcmp(op, "<="))
		return have <= b;
	if (!strcmp(op, ">="))
		return have >= b;
	if (!strcmp(op, "<"))
		return have < b;
	if (!strcmp(op, ">"))
		return have > b;
	/* No operator: the size as a vendor rounds it, within 1%. */
	uint64_t diff = have > b ? have - b : b - have;
	return diff <= b / 100;
}

static bool glob(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

int disk_match(const struct blk_disk *d, const struct disk_selector *s, char *why, size_t whylen)
{
	bool bad = false;

	if (d->readonly)
		return snprintf(why, whylen, "read-only"), 0;
	if (s->size && !size_matches(d->size, s->size, &bad)) {
		if (bad)
			snprintf(why, whylen, "size \"%s\" is not a size", s->size);
		else
			snprintf(why, whylen, "size %llu bytes is not %s", (unsigned long long)d->size, s->size);
		return 0;
	}
	if (s->name && strcmp(s->name, d->name) && !(strncmp(s->name, "/dev/", 5) == 0 && !strcmp(s->name + 5, d->name)))
		return snprintf(why, whylen, "name is not %s", s->name), 0;
	if (s->model && !glob(s->model, d->model))
		return snprintf(why, whylen, "model \"%s\" is not %s", d->model, s->model), 0;
	if (s->serial && !glob(s->serial, d->serial))
		return snprintf(why, whylen, "serial \"%s\" is not %s", d->serial, s->serial), 0;
	if (s->type && strcmp(s->type, d->type))
		return snprintf(why, whylen, "type %s is not %s", d->type, s->type), 0;
	if (s->bus_path && !glob(s->bus_path, d->bus_path))
		return snprintf(why, whylen, "busPath %s is not %s", d->bus_path, s->bus_path), 0;
	if (s->modalias && !glob(s->modalias, d->modalias))
		return snprintf(why, whylen, "modalias %s is not %s", d->modalias, s->modalias), 0;
	if (s->wwid && !glob(s->wwid, d->wwid))
		return snprintf(why, whylen, "wwid %s is not %s", d->wwid, s->wwid), 0;
	return 1;
}

int disk_select(const struct blk_disk *disks, size_t n, const struct disk_selector *s, char *err, size_t errlen)
{
	size_t used;
	char why[256];

	used = (size_t)snprintf(err, errlen, "no disk matches the selector");
	if (!n && used < errlen)
		snprintf(err + used, errlen - used, ": the machine has no disks");
	for (size_t i = 0; i < n; i++) {
		if (disk_match(&disks[i], s, why, sizeof(why)))
			return (int)i;
		if (used < errlen)
			used += (size_t)snprintf(err + used, errlen - used, "%s %s: %s", i ? ";" : ":", disks[i].name, why);
	}
	return -1;
}

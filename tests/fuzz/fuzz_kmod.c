/* SPDX-License-Identifier: MIT */
/*
 * modules.dep, modules.alias and modules.builtin as one input (split at the first two
 * NUL bytes), then loads and probes through them with a loader that does nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init/kmod.h"

static int noop_loader(void *arg, const char *path)
{
	(void)arg;
	(void)path;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 3), *parts[3], err[256];
	struct kmod_db db;
	size_t n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(text + size, 0, 3);
	parts[0] = text;
	for (size_t i = 0; i < size && n < 2; i++)
		if (text[i] == '\0')
			parts[++n] = text + i + 1;
	while (n < 2)
		parts[++n] = text + size + 1;
	kmod_db_init(&db);
	db.loader = noop_loader;
	if (kmod_db_parse_dep(&db, parts[0], err, sizeof(err)) == 0 &&
	    kmod_db_parse_alias(&db, parts[1], err, sizeof(err)) == 0 &&
	    kmod_db_parse_builtin(&db, parts[2], err, sizeof(err)) == 0) {
		for (size_t i = 0; i < db.nmods && i < 8; i++)
			kmod_load(&db, db.mods[i].name, err, sizeof(err));
		kmod_probe(&db, "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", err, sizeof(err));
	}
	kmod_db_fini(&db);
	free(text);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * modclosure: prints the modules.dep paths of the modules named in the list files plus
 * everything they depend on, sorted, one per line. Unknown names fail the build, except
 * those built into the kernel (listed in modules.builtin), which need no file.
 *   modclosure MODDIR LIST...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/kmod.h"

static int record(void *arg, const char *path)
{
	(void)arg;
	(void)path;
	return 0;  /* marks the module loaded; the paths are collected afterwards */
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct kmod_db db;
	char err[512], line[256];
	char **paths;
	size_t n = 0;
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: modclosure MODDIR LIST...\n");
		return 2;
	}
	kmod_db_init(&db);
	if (kmod_db_load(&db, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "modclosure: %s\n", err);
		return 1;
	}
	db.loader = record;
	for (int i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *name = line + strspn(line, " \t");

			name[strcspn(name, " \t\r\n#")] = '\0';
			if (*name && kmod_load(&db, name, err, sizeof(err)) < 0) {
				fprintf(stderr, "modclosure: %s: %s\n", argv[i], err);
				bad = 1;
			}
		}
		fclose(f);
	}
	paths = calloc(db.nmods + 1, sizeof(*paths));
	for (size_t i = 0; paths && i < db.nmods; i++)
		if (db.mods[i].state == KMOD_LOADED)
			paths[n++] = db.mods[i].path;
	qsort(paths, n, sizeof(*paths), cmp);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", paths[i]);
	free(paths);
	kmod_db_fini(&db);
	return bad;
}

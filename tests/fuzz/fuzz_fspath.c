/* SPDX-License-Identifier: MIT */
/* A path a client names (Read, List, machine.files): what splits has no "." or ".." part,
 * no empty part, and names a tree; the refusal check never reads past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fspath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const trees[] = { "var", "proc", "sys" };
	static struct fspath p;
	char path[FSPATH_MAX + 16], err[300];
	size_t tl;

	if (size > FSPATH_MAX + 8)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (fspath_split(path, trees, 3, &p, err, sizeof(err)) != 0)
		return 0;
	if (p.tree >= 3)
		abort();
	tl = strlen(trees[p.tree]);
	if (p.full[0] != '/' || strncmp(p.full + 1, trees[p.tree], tl) != 0 || strstr(p.full, "//"))
		abort();
	if (strcmp(p.rel, ".") != 0) {
		const char *s = p.rel;

		if (strcmp(p.full + 1 + tl + 1, p.rel) != 0)
			abort();
		while (*s) {
			size_t l = strcspn(s, "/");

			if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
				abort();
			s += l + (s[l] == '/');
		}
	} else if (p.full[1 + tl] != '\0') {
		abort();
	}
	(void)fspath_denied(trees[p.tree], &p);
	return 0;
}

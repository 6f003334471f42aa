/* SPDX-License-Identifier: MIT */
/* osctl's one option parser: the options and arguments of a command line. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "osctl/osctl.h"

const char *osc_opt(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return argv[i + 1];
	return NULL;
}

bool osc_flag(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return true;
	return false;
}

/* The i-th argument that is not an option (options listed in takes_value take one). */
const char *osc_positional(int argc, char **argv, int want, const char *const *takes_value)
{
	int k = 0;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			for (const char *const *t = takes_value; t && *t; t++)
				if (strcmp(argv[i], *t) == 0) {
					i++;
					break;
				}
			continue;
		}
		if (k++ == want)
			return argv[i];
	}
	return NULL;
}

int osc_check_args(int argc, char **argv, const char *const *takes_value, const char *const *flags, int max_positional)
{
	int k = 0;

	for (int i = 1; i < argc; i++) {
		bool known = false;

		if (argv[i][0] != '-' || !argv[i][1]) {
			if (k++ >= max_positional) {
				fprintf(stderr, "osctl: %s: unexpected argument %s\n", argv[0], argv[i]);
				return -1;
			}
			continue;
		}
		for (const char *const *t = takes_value; t && *t && !known; t++)
			if (strcmp(argv[i], *t) == 0) {
				known = true;
				if (i + 1 >= argc) {
					fprintf(stderr, "osctl: %s: %s needs a value\n", argv[0], argv[i]);
					return -1;
				}
				i++;
			}
		for (const char *const *f = flags; f && *f && !known; f++)
			known = strcmp(argv[i], *f) == 0;
		if (!known) {
			fprintf(stderr, "osctl: %s: unknown option %s\n", argv[0], argv[i]);
			return -1;
		}
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The persisted machine config: <dir>/config.yaml and the last good copy,
 * <dir>/config.yaml.prev. Each file starts with a line carrying the sha256 and length of
 * the rest, so a torn or corrupted file is recognised on boot and the other copy used.
 */
#ifndef BASALT_CFGSTATE_H
#define BASALT_CFGSTATE_H

#include <stddef.h>

#define CFGSTATE_CURRENT "config.yaml"
#define CFGSTATE_PREVIOUS "config.yaml.prev"
#define CFGSTATE_TRY "try.yaml"            /* a config on trial: "# try-deadline-ms=N" + text */
#define CFGSTATE_IDENTITY "identity.yaml"  /* machine.ca of the last config in force */
#define CFGSTATE_MAX (1u << 20)

/*
 * Writes text as the current config; a valid current config becomes the previous one. The
 * new copy is written whole before anything is renamed: on failure (ENOSPC) the files are
 * as they were.
 */
int cfgstate_save(const char *dir, const char *text, size_t len, char *err, size_t errlen);

/* One checksummed file of its own (the try record, the identity), written atomically. */
int cfgstate_put(const char *dir, const char *name, const char *text, size_t len, char *err,
		 size_t errlen);
/* Reads one such file: 0 with *text, or -errno / -EBADMSG with why. */
int cfgstate_load_one(const char *dir, const char *name, char **text, size_t *len, char *why,
		      size_t whylen);
int cfgstate_remove(const char *dir, const char *name);

/*
 * Loads the current config, else the previous one. Returns 0 with *text (caller frees);
 * when the previous copy was used, report says why. -ENOENT when there is no config,
 * -EBADMSG when every copy is corrupt (report says what was wrong with each).
 */
int cfgstate_load(const char *dir, char **text, size_t *len, char *report, size_t reportlen);

#endif

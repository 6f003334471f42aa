/* SPDX-License-Identifier: MIT */
/*
 * Kernel module index: modules.dep, modules.alias and modules.builtin of one module
 * directory, loading in dependency order with finit_module (or a test's loader).
 */
#ifndef BASALT_KMOD_H
#define BASALT_KMOD_H

#include <stdbool.h>
#include <stddef.h>

enum kmod_state {
	KMOD_UNLOADED = 0,
	KMOD_VISITING,  /* on the current dependency walk; meeting it again is a cycle */
	KMOD_LOADED,    /* loaded by us, or found already loaded */
	KMOD_FAILED,
};

struct kmod_mod {
	char *name;     /* normalised: '-' becomes '_' */
	char *path;     /* as written in modules.dep, relative to the module directory */
	size_t *deps;   /* indexes of the modules it needs, in modules.dep order */
	size_t ndeps;
	enum kmod_state state;
	bool preloaded; /* the kernel had it before we asked (EEXIST) */
	int err;        /* -errno of the failed load */
};

struct kmod_alias {
	char *pattern;  /* fnmatch pattern, normalised */
	size_t literal; /* length of its prefix before the first wildcard: a cheap pre-check */
	char *module;   /* normalised module name */
};

/* Loads the module file at path (absolute); returns 0, -EEXIST when already loaded, or -errno. */
typedef int kmod_loader_fn(void *arg, const char *path);

struct kmod_db {
	char *dir;                   /* /lib/modules/<release> */
	struct kmod_mod *mods;
	size_t nmods;
	struct kmod_alias *aliases;
	size_t naliases;
	char **builtin;              /* normalised names of modules built into the kernel */
	size_t nbuiltin;
	kmod_loader_fn *loader;      /* finit_module unless a test replaces it */
	void *loader_arg;
};

void kmod_db_init(struct kmod_db *db);
void kmod_db_fini(struct kmod_db *db);
/* Reads modules.dep (required), modules.alias and modules.builtin (optional) from dir. */
int kmod_db_load(struct kmod_db *db, const char *dir, char *err, size_t errlen);
/* Parsers over file contents; errors name "<file>:<line>". */
int kmod_db_parse_dep(struct kmod_db *db, const char *text, char *err, size_t errlen);
int kmod_db_parse_alias(struct kmod_db *db, const char *text, char *err, size_t errlen);
int kmod_db_parse_builtin(struct kmod_db *db, const char *text, char *err, size_t errlen);

/* Writes name with '-' turned into '_' (outside [...] groups) into out. */
void kmod_normalize(const char *name, char *out, size_t outlen);
bool kmod_is_builtin(const struct kmod_db *db, const char *name);
struct kmod_mod *kmod_find(const struct kmod_db *db, const char *name);

/*
 * Loads name and its dependencies, dependencies first. A builtin module succeeds at once.
 * Returns 0, -ENOENT if unknown, -ELOOP on a dependency cycle, or the loader's -errno.
 */
int kmod_load(struct kmod_db *db, const char *name, char *err, size_t errlen);

/* Calls fn for each module whose alias pattern matches modalias; stops if fn returns < 0. */
typedef int kmod_alias_fn(void *arg, const char *module);
int kmod_match_alias(const struct kmod_db *db, const char *modalias, kmod_alias_fn *fn, void *arg);

/* Loads name if it is a module, else every module its alias resolves to (modprobe's job). */
int kmod_probe(struct kmod_db *db, const char *name, char *err, size_t errlen);

#endif

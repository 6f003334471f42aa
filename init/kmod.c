/* SPDX-License-Identifier: MIT */
#include "init/kmod.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KMOD_NAME_MAX 256
#define KMOD_FILE_MAX (16u << 20)  /* a modules.* index larger than this is not ours */

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

/* A compressed module (.ko.xz, .ko.zst, .ko.gz) is the kernel's to decompress. The image
 * builder stores them decompressed; this is for a module directory that is not ours. */
static bool compressed(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && (strcmp(dot, ".xz") == 0 || strcmp(dot, ".zst") == 0 || strcmp(dot, ".gz") == 0);
}

static int finit_loader(void *arg, const char *path)
{
	int fd, r;

	(void)arg;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = (int)syscall(SYS_finit_module, fd, "", compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0);
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

void kmod_db_init(struct kmod_db *db)
{
	memset(db, 0, sizeof(*db));
	db->loader = finit_loader;
}

void kmod_db_fini(struct kmod_db *db)
{
	for (size_t i = 0; i < db->nmods; i++) {
		free(db->mods[i].name);
		free(db->mods[i].path);
		free(db->mods[i].deps);
	}
	for (size_t i = 0; i < db->naliases; i++) {
		free(db->aliases[i].pattern);
		free(db->aliases[i].module);
	}
	for (size_t i = 0; i < db->nbuiltin; i++)
		free(db->builtin[i]);
	free(db->mods);
	free(db->aliases);
	free(db->builtin);
	free(db->dir);
	kmod_db_init(db);
}

void kmod_normalize(const char *name, char *out, size_t outlen)
{
	size_t n = 0;
	int depth = 0;

	if (outlen == 0)
		return;
	for (const char *p = name; *p && n < outlen - 1; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		out[n++] = (*p == '-' && depth == 0) ? '_' : *p;
	}
	out[n] = '\0';
}

/* "kernel/fs/squashfs/squashfs.ko" -> "squashfs"; false if it is not a .ko path. */
static bool name_from_path(const char *path, size_t len, char *out, size_t outlen)
{
	static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	const char *base = path, *end = path + len;
	char raw[KMOD_NAME_MAX];
	size_t n;

	for (const char *p = path; p < end; p++)
		if (*p == '/')
			base = p + 1;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t el = strlen(exts[i]);

		if ((size_t)(end - base) > el && memcmp(end - el, exts[i], el) == 0) {
			n = (size_t)(end - base) - el;
			if (n >= sizeof(raw))
				return false;
			memcpy(raw, base, n);
			raw[n] = '\0';
			kmod_normalize(raw, out, outlen);
			return true;
		}
	}
	return false;
}

struct kmod_mod *kmod_find(const struct kmod_db *db, const char *name)
{
	char norm[KMOD_NAME_MAX];

	kmod_normalize(name, norm, sizeof(norm));
	for (size_t i = 0; i < db->nmods; i++)
		if (strcmp(db->mods[i].name, norm) == 0)
			return &db->mods[i];
	return NULL;
}

/* Finds or appends the module for path; returns its index or -errno. */
static long mod_intern(struct kmod_db *db, const char *path, size_t len)
{
	char name[KMOD_NAME_MAX];
	struct kmod_mod *m;

	if (!name_from_path(path, len, name, sizeof(name)))
		return -EINVAL;
	m = kmod_find(db, name);
	if (m)
		return m - db->mods;
	m = realloc(db->mods, (db->nmods + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	db->mods = m;
	m = &db->mods[db->nmods];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->path = strndup(path, len);
	if (!m->name || !m->path) {
		free(m->name);
		free(m->path);
		return -ENOMEM;
	}
	return (long)db->nmods++;
}

static int mod_add_dep(struct kmod_mod *m, size_t dep)
{
	size_t *d = realloc(m->deps, (m->ndeps + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	d[m->ndeps++] = dep;
	m->deps = d;
	return 0;
}

/* Iterates lines: sets line and len for each; returns false at the end. */
static bool next_line(const char **cur, const char **line, size_t *len)
{
	const char *p = *cur, *nl;

	if (!*p)
		return false;
	nl = strchr(p, '\n');
	*line = p;
	*len = nl ? (size_t)(nl - p) : strlen(p);
	*cur = nl ? nl + 1 : p + *len;
	return true;
}

static int parse_dep_line(struct kmod_db *db, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *p, *end = line + len;
	long self;

	if (!colon)
		return -EINVAL;
	self = mod_intern(db, line, (size_t)(colon - line));
	if (self < 0)
		return (int)self;
	for (p = colon + 1; p < end;) {
		const char *tok;
		long dep;
		int err;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		tok = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (p == tok)
			break;
		dep = mod_intern(db, tok, (size_t)(p - tok));
		if (dep < 0)
			return (int)dep;
		err = mod_add_dep(&db->mods[self], (size_t)dep);
		if (err < 0)
			return err;
	}
	return 0;
}

int kmod_db_parse_dep(struct kmod_db *db, const char *text, char *err, size_t errlen)
{
	const char *cur = text, *line;
	size_t len, lineno = 0;

	while (next_line(&cur, &line, &len)) {
		int r;

		lineno++;
		if (len == 0 || line[0] == '#')
			continue;
		r = parse_dep_line(db, line, len);
		if (r == -EINVAL) {
			snprintf(err, errlen, "modules.dep:%zu: expected \"path.ko: deps...\"", lineno);
			return r;
		}
		if (r < 0) {
			snprintf(err, errlen, "modules.dep:%zu: %s", lineno, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int add_alias(struct kmod_db *db, const char *pat, size_t plen, const char *mod, size_t mlen)
{
	char buf[KMOD_NAME_MAX * 2];
	struct kmod_alias *a = realloc(db->aliases, (db->naliases + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	db->aliases = a;
	a = &db->aliases[db->naliases];
	if (plen >= sizeof(buf) || mlen >= KMOD_NAME_MAX)
		return -EINVAL;
	memcpy(buf, pat, plen);
	buf[plen] = '\0';
	kmod_normalize(buf, buf, sizeof(buf));
	a->pattern = strdup(buf);
	a->literal = strcspn(buf, "*?[\\");
	memcpy(buf, mod, mlen);
	buf[mlen] = '\0';
	kmod_normalize(buf, buf, sizeof(buf));
	a->module = strdup(buf);
	if (!a->pattern || !a->module) {
		free(a->pattern);
		free(a->module);
		return -ENOMEM;
	}
	db->naliases++;
	return 0;
}

/* "alias <pattern> <module>" */
int kmod_db_parse_alias(struct kmod_db *db, const char *text, char *err, size_t errlen)
{
	const char *cur = text, *line;
	size_t len, lineno = 0;

	while (next_line(&cur, &line, &len)) {
		const char *p = line, *end = line + len, *pat, *mod;
		size_t plen;
		int r;

		lineno++;
		if (len == 0 || line[0] == '#')
			continue;
		if (len < 6 || memcmp(line, "alias ", 6) != 0)
			goto bad;
		for (p = line + 6; p < end && *p == ' '; p++)
			;
		pat = p;
		while (p < end && *p != ' ')
			p++;
		plen = (size_t)(p - pat);
		while (p < end && *p == ' ')
			p++;
		mod = p;
		while (p < end && *p != ' ')
			p++;
		if (plen == 0 || p == mod)
			goto bad;
		r = add_alias(db, pat, plen, mod, (size_t)(p - mod));
		if (r < 0) {
			snprintf(err, errlen, "modules.alias:%zu: %s", lineno, strerror(-r));
			return r;
		}
		continue;
bad:
		snprintf(err, errlen, "modules.alias:%zu: expected \"alias <pattern> <module>\"", lineno);
		return -EINVAL;
	}
	return 0;
}

int kmod_db_parse_builtin(struct kmod_db *db, const char *text, char *err, size_t errlen)
{
	const char *cur = text, *line;
	size_t len, lineno = 0;

	while (next_line(&cur, &line, &len)) {
		char name[KMOD_NAME_MAX];
		char **b;

		lineno++;
		if (len == 0 || line[0] == '#')
			continue;
		if (!name_from_path(line, len, name, sizeof(name))) {
			snprintf(err, errlen, "modules.builtin:%zu: expected a .ko path", lineno);
			return -EINVAL;
		}
		b = realloc(db->builtin, (db->nbuiltin + 1) * sizeof(*b));
		if (!b)
			return -ENOMEM;
		db->builtin = b;
		b[db->nbuiltin] = strdup(name);
		if (!b[db->nbuiltin])
			return -ENOMEM;
		db->nbuiltin++;
	}
	return 0;
}

bool kmod_is_builtin(const struct kmod_db *db, const char *name)
{
	char norm[KMOD_NAME_MAX];

	kmod_normalize(name, norm, sizeof(norm));
	for (size_t i = 0; i < db->nbuiltin; i++)
		if (strcmp(db->builtin[i], norm) == 0)
			return true;
	return false;
}

/* Reads a whole index file into a NUL-terminated heap string. */
static int read_index(const char *dir, const char *file, char **out)
{
	char path[512];
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > KMOD_FILE_MAX) {
		err = errno ? -errno : -EFBIG;
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)r;
	}
	text[got] = '\0';
	*out = text;
	text = NULL;
out:
	free(text);
	close(fd);
	return err;
}

int kmod_db_load(struct kmod_db *db, const char *dir, char *err, size_t errlen)
{
	static const struct {
		const char *file;
		bool required;
		int (*parse)(struct kmod_db *, const char *, char *, size_t);
	} files[] = {
		{ "modules.dep", true, kmod_db_parse_dep },
		{ "modules.alias", false, kmod_db_parse_alias },
		{ "modules.builtin", false, kmod_db_parse_builtin },
	};

	db->dir = strdup(dir);
	if (!db->dir)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = NULL;
		int r = read_index(dir, files[i].file, &text);

		if (r == -ENOENT && !files[i].required)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "read %s/%s: %s", dir, files[i].file, strerror(-r));
			return r;
		}
		r = files[i].parse(db, text, err, errlen);
		free(text);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_idx(struct kmod_db *db, size_t idx, char *err, size_t errlen)
{
	struct kmod_mod *m = &db->mods[idx];
	char path[1024];
	int r;

	switch (m->state) {
	case KMOD_LOADED:
		return 0;
	case KMOD_FAILED:
		return m->err;
	case KMOD_VISITING:
		snprintf(err, errlen, "dependency cycle through module %s", m->name);
		return -ELOOP;
	case KMOD_UNLOADED:
		break;
	}
	m->state = KMOD_VISITING;
	for (size_t i = 0; i < m->ndeps; i++) {
		r = load_idx(db, m->deps[i], err, errlen);
		if (r < 0) {
			m->state = KMOD_UNLOADED;
			return r;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", db->dir ? db->dir : "", m->path);
	r = db->loader(db->loader_arg, path);
	if (r < 0 && r != -EEXIST) {
		m->state = KMOD_FAILED;
		m->err = r;
		snprintf(err, errlen, "load module %s (%s): %s", m->name, path, strerror(-r));
		return r;
	}
	m->state = KMOD_LOADED;
	m->preloaded = r == -EEXIST;
	return 0;
}

int kmod_load(struct kmod_db *db, const char *name, char *err, size_t errlen)
{
	struct kmod_mod *m;

	if (kmod_is_builtin(db, name))
		return 0;
	m = kmod_find(db, name);
	if (!m) {
		snprintf(err, errlen, "module %s not found in %s/modules.dep", name,
			 db->dir ? db->dir : "(index)");
		return -ENOENT;
	}
	return load_idx(db, (size_t)(m - db->mods), err, errlen);
}

int kmod_match_alias(const struct kmod_db *db, const char *modalias, kmod_alias_fn *fn, void *arg)
{
	char norm[1024];
	int matched = 0;

	kmod_normalize(modalias, norm, sizeof(norm));
	for (size_t i = 0; i < db->naliases; i++) {
		const struct kmod_alias *a = &db->aliases[i];

		/* Most patterns differ from a given alias in their literal prefix. */
		if (strncmp(norm, a->pattern, a->literal) != 0 ||
		    fnmatch(a->pattern, norm, 0) != 0)
			continue;
		matched++;
		if (fn(arg, db->aliases[i].module) < 0)
			break;
	}
	return matched;
}

struct probe_ctx {
	struct kmod_db *db;
	char *err;
	size_t errlen;
	int result;
	int loaded;
};

static int probe_one(void *arg, const char *module)
{
	struct probe_ctx *pc = arg;
	int r = kmod_load(pc->db, module, pc->err, pc->errlen);

	if (r == 0)
		pc->loaded++;
	else
		pc->result = r;
	return 0;
}

int kmod_probe(struct kmod_db *db, const char *name, char *err, size_t errlen)
{
	struct probe_ctx pc = { .db = db, .err = err, .errlen = errlen, .result = -ENOENT };

	if (kmod_is_builtin(db, name) || kmod_find(db, name))
		return kmod_load(db, name, err, errlen);
	if (kmod_match_alias(db, name, probe_one, &pc) == 0) {
		snprintf(err, errlen, "no module or alias named %s in %s", name,
			 db->dir ? db->dir : "(index)");
		return -ENOENT;
	}
	return pc.loaded > 0 ? 0 : pc.result;
}

/* SPDX-License-Identifier: MIT */
/* osctl's commands about the files a node keeps: read (cat) and ls (list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/machine.pb-c.h"
#include "osctl/osctl.h"

int cmd_read(struct osc *o, int argc, char **argv)
{
	Basalt__Machine__ReadRequest req = BASALT__MACHINE__READ_REQUEST__INIT;
	const char *path = osc_positional(argc, argv, 0, NULL);
	struct osc_datactx d = { .o = o };
	int r;

	if (!path) {
		fprintf(stderr, "usage: osctl read PATH   (a file under /var, /proc or /sys)\n");
		return 2;
	}
	req.path = (char *)path;
	r = osc_stream(o, API_READ, &req.base, osc_on_data, &d);
	return r < 0 || d.rc;
}

struct lsctx {
	struct osc *o;
	struct table t;
	bool longfmt;
	int rc;
};

static void mode_string(uint32_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p'
		 : S_ISSOCK(m) ? 's' : '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

static int on_info(void *arg, const uint8_t *p, size_t len)
{
	struct lsctx *l = arg;
	Basalt__Machine__FileInfo *f = (void *)protobuf_c_message_unpack(&basalt__machine__file_info__descriptor, NULL, len, p);
	char name[8300], mode[11], uid[16], gid[16], size[24], mod[32];
	const char *node;

	if (!f)
		return 1;
	if (osc_node_error(l->o, f->metadata)) {
		l->rc = 1;
		goto out;
	}
	node = osc_node_name(l->o, f->metadata);
	if (f->error[0]) {
		fprintf(stderr, "osctl: %s: %s: %s\n", node, f->name, f->error);
		l->rc = 1;
		goto out;
	}
	snprintf(name, sizeof(name), "%s%s%s", f->relative_name, f->link[0] ? " -> " : "", f->link);
	if (!l->longfmt) {
		table_add(&l->t, node, name);
		goto out;
	}
	mode_string(f->mode, mode);
	snprintf(uid, sizeof(uid), "%u", f->uid);
	snprintf(gid, sizeof(gid), "%u", f->gid);
	snprintf(size, sizeof(size), "%lld", (long long)f->size);
	{
		time_t t = (time_t)f->modified;
		struct tm tm;

		/* A node's time out of the calendar's range (gmtime_r fails) is shown as a number. */
		if (!gmtime_r(&t, &tm) || !strftime(mod, sizeof(mod), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(mod, sizeof(mod), "@%lld", (long long)f->modified);
	}
	table_add(&l->t, node, mode, uid, gid, size, mod, name);
out:
	protobuf_c_message_free_unpacked(&f->base, NULL);
	return 0;
}

static size_t sort_ncols;

/* Rows by node, then name: a directory before what is under it. */
static int row_cmp(const void *a, const void *b)
{
	char *const *x = a, *const *y = b;
	int c = strcmp(x[0], y[0]);

	return c ? c : strcmp(x[sort_ncols - 1], y[sort_ncols - 1]);
}

/* Sorts the rows after the header (the server sends them in directory order). */
static void sort_rows(struct table *t)
{
	if (t->nrows < 3)
		return;
	sort_ncols = t->ncols;
	/* Each element qsort moves is one row (its ncols cell pointers are contiguous). */
	qsort(t->cells + t->ncols, t->nrows - 1, t->ncols * sizeof(char *), row_cmp);
}

int cmd_ls(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "-d", "--depth", "-t", "--type", NULL };
	Basalt__Machine__ListRequest req = BASALT__MACHINE__LIST_REQUEST__INIT;
	Basalt__Machine__ListRequest__Type types[3];
	const char *path = osc_positional(argc, argv, 0, tv), *depth = osc_opt(argc, argv, "-d", "--depth"),
		   *type = osc_opt(argc, argv, "-t", "--type");
	struct lsctx l = { .o = o, .longfmt = osc_flag(argc, argv, "-l", "--long") };
	int r;

	req.root = (char *)(path ? path : "/var");
	req.recurse = osc_flag(argc, argv, "-r", "--recurse") || depth;
	if (depth) {
		char *end;
		long n = strtol(depth, &end, 10);

		if (*end || n < 1 || n > 32) {
			fprintf(stderr, "osctl: --depth %s: expected a number of levels from 1 to 32\n", depth);
			return 2;
		}
		req.recursion_depth = (int)n;
	}
	for (const char *t = type; t && *t; t++) {
		Basalt__Machine__ListRequest__Type v = *t == 'f' ? BASALT__MACHINE__LIST_REQUEST__TYPE__REGULAR
						   : *t == 'd' ? BASALT__MACHINE__LIST_REQUEST__TYPE__DIRECTORY
						   : BASALT__MACHINE__LIST_REQUEST__TYPE__SYMLINK;

		if (*t == ',')
			continue;
		if (!strchr("fdl", *t) || req.n_types == 3) {
			fprintf(stderr, "osctl: --type %s: expected f, d or l (regular files, directories, symlinks)\n", type);
			return 2;
		}
		types[req.n_types++] = v;
	}
	req.types = types;
	if (l.longfmt) {
		table_init(&l.t, 7);
		table_add(&l.t, "NODE", "MODE", "UID", "GID", "SIZE(B)", "LASTMOD", "NAME");
	} else {
		table_init(&l.t, 2);
		table_add(&l.t, "NODE", "NAME");
	}
	r = osc_stream(o, API_FILE_LIST, &req.base, on_info, &l);
	sort_rows(&l.t);
	if (l.t.nrows > 1)
		table_print(&l.t);
	table_fini(&l.t);
	return r < 0 || l.rc;
}

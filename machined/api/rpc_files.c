/* SPDX-License-Identifier: MIT */
/*
 * MachineService's Read and List: what a node keeps, under /var, /proc and /sys only. A
 * path is checked by lib/fspath.c (no "..", inside those trees) and opened beneath its
 * tree's directory, so a symlink, a mount or a /proc magic link that leads elsewhere is
 * refused; List never follows a symlink (it reports its target). Both stream at the
 * client's pace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "api/machine.pb-c.h"
#include "lib/fspath.h"
#include "lib/grpc.h"
#include "machined/api/api.h"
#include "machined/api/rpc.h"

#define LIST_DEPTH_MAX 32

static const char *const trees[] = { "var", "proc", "sys" };
#define NTREES (sizeof(trees) / sizeof(trees[0]))

static const char *tree_dir(const struct api *a, size_t t)
{
	static const char *const dirs[] = { "/var", "/proc", "/sys" };

	return t == 0 && a->o.var_dir ? a->o.var_dir : dirs[t];
}

/* The gRPC status for an open that failed with -e (why in msg). */
static int open_status(int e, const struct fspath *p, char *msg, size_t len)
{
	const char *tree = trees[p->tree];

	switch (e) {
	case -ENOENT:
		snprintf(msg, len, "%.300s: no such file or directory", p->full);
		return GRPC_NOT_FOUND;
	case -EXDEV:
		snprintf(msg, len, "%.300s: refused: a symlink or a mount on the way leads out of /%s", p->full, tree);
		return GRPC_PERMISSION_DENIED;
	case -ELOOP:
		snprintf(msg, len, "%.300s: refused: a link of /proc into another process's files is not followed",
			 p->full);
		return GRPC_PERMISSION_DENIED;
	case -ENOTDIR:
		snprintf(msg, len, "%.300s: a part of the path is not a directory", p->full);
		return GRPC_NOT_FOUND;
	default:
		snprintf(msg, len, "%.300s: %s", p->full, strerror(-e));
		return GRPC_UNAVAILABLE;
	}
}

/*
 * Checks and opens the path a request names. It is looked at first through an O_PATH fd
 * (opening nothing): a procfs mounted outside /proc is refused (the deny list is for
 * /proc), and only a regular file (or, for List, a directory) is then opened to be read,
 * non-blocking; anything else is left unopened (List reports it from the O_PATH fd). The fd
 * with *st, or -1 with the call finished.
 */
static int open_request(struct api *a, struct apicall *c, const char *path, bool list, struct fspath *p,
			struct stat *st)
{
	char msg[512];
	const char *why;
	struct statfs fs;
	struct stat again;
	int root, pfd, fd;

	if (fspath_split(path ? path : "", trees, NTREES, p, msg, sizeof(msg)) < 0) {
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
		return -1;
	}
	if ((why = fspath_denied(trees[p->tree], p))) {
		snprintf(msg, sizeof(msg), "%.300s: refused: %s", p->full, why);
		apicall_finish(c, GRPC_PERMISSION_DENIED, msg);
		return -1;
	}
	if ((root = open(tree_dir(a, p->tree), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(msg, sizeof(msg), "/%s is not there on this node: %s", trees[p->tree], strerror(errno));
		apicall_finish(c, GRPC_UNAVAILABLE, msg);
		return -1;
	}
	pfd = fspath_open(root, p->rel, O_PATH, 0);
	if (pfd < 0) {
		int code = open_status(pfd, p, msg, sizeof(msg));

		close(root);
		apicall_finish(c, code, msg);
		return -1;
	}
	if (fstat(pfd, st) < 0 || fstatfs(pfd, &fs) < 0) {
		snprintf(msg, sizeof(msg), "%.300s: %s", p->full, strerror(errno));
		close(root), close(pfd);
		apicall_finish(c, GRPC_UNAVAILABLE, msg);
		return -1;
	}
	if (fs.f_type == PROC_SUPER_MAGIC && strcmp(trees[p->tree], "proc") != 0) {
		snprintf(msg, sizeof(msg), "%.300s: refused: a procfs mounted under /%s is not served (read /proc)", p->full,
			 trees[p->tree]);
		close(root), close(pfd);
		apicall_finish(c, GRPC_PERMISSION_DENIED, msg);
		return -1;
	}
	if (!S_ISREG(st->st_mode) && !(list && S_ISDIR(st->st_mode))) {
		close(root);
		if (list)
			return pfd;
		snprintf(msg, sizeof(msg), "%.300s: %s", p->full,
			 S_ISDIR(st->st_mode) ? "a directory (osctl ls lists it)" : "not a regular file");
		close(pfd);
		apicall_finish(c, GRPC_INVALID_ARGUMENT, msg);
		return -1;
	}
	close(pfd);
	fd = fspath_open(root, p->rel, O_RDONLY | O_NOCTTY | O_NONBLOCK | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0), 0);
	close(root);
	/* The same file as the one looked at, else it changed in between: not read. */
	if (fd >= 0 && (fstat(fd, &again) < 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino)) {
		close(fd);
		fd = -EAGAIN;
	}
	if (fd < 0) {
		int code = fd == -EAGAIN ? GRPC_UNAVAILABLE : open_status(fd, p, msg, sizeof(msg));

		if (fd == -EAGAIN)
			snprintf(msg, sizeof(msg), "%.300s: it changed while it was opened", p->full);
		apicall_finish(c, code, msg);
		return -1;
	}
	return fd;
}

/* --- Read --- */

struct reader {
	struct apicall *call;
	int fd;
	char path[FSPATH_MAX];
};

static void reader_end(struct reader *r, int code, const char *msg)
{
	apicall_on_cancel(r->call, NULL, NULL);
	apicall_on_writable(r->call, NULL, NULL);
	apicall_finish(r->call, code, msg);
	close(r->fd);
	free(r);
}

/* Sends until the client must catch up (then on_writable comes back here) or the end. */
static void reader_pump(struct reader *r)
{
	static char chunk[DATA_CHUNK];

	for (;;) {
		ssize_t n = read(r->fd, chunk, sizeof(chunk));
		int sent, code;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			char msg[FSPATH_MAX + 64];

			snprintf(msg, sizeof(msg), "read %s: %s", r->path,
				 errno == EAGAIN ? "it has nothing to read now (it would wait)" : strerror(errno));
			reader_end(r, GRPC_UNAVAILABLE, msg);
			return;
		}
		if (n == 0) {
			reader_end(r, GRPC_OK, NULL);
			return;
		}
		sent = rpc_send_data(r->call, chunk, (size_t)n);
		if ((code = rpc_stream_check(r->call, sent))) {
			reader_end(r, code, rpc_stream_why(code));
			return;
		}
		if (sent == 1)
			return;
	}
}

static void reader_writable(void *arg, struct apicall *c)
{
	(void)c;
	reader_pump(arg);
}

static void reader_cancel(void *arg, struct apicall *c)
{
	(void)c;
	reader_end(arg, GRPC_CANCELLED, NULL);
}

void rpc_read(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__ReadRequest *req = DECODE(c, Basalt__Machine__ReadRequest, basalt__machine__read_request__descriptor);
	static struct fspath p;
	struct reader *r;
	struct stat st;
	int fd;

	(void)role;
	if (!req)
		return;
	/* O_NONBLOCK: a file of /proc or /sys that waits for events never holds the loop. */
	fd = open_request(a, c, req->path, false, &p, &st);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	if (fd < 0)
		return;
	if (!(r = calloc(1, sizeof(*r)))) {
		close(fd);
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	r->call = c;
	r->fd = fd;
	snprintf(r->path, sizeof(r->path), "%s", p.full);
	apicall_on_cancel(c, reader_cancel, r);
	apicall_on_writable(c, reader_writable, r);
	reader_pump(r);
}

/* --- List --- */

struct level {
	DIR *dir;
	size_t plen;  /* of lister.path: this directory's path */
	size_t rlen;  /* of lister.rel */
};

struct lister {
	struct apicall *call;
	struct level stack[LIST_DEPTH_MAX + 1];
	int depth;         /* levels open - 1; -1: none */
	int max_depth;     /* levels below the root to descend into */
	unsigned types;    /* bit per ListRequest.Type; 0: all */
	dev_t dev;         /* the root's filesystem: not left */
	char path[FSPATH_MAX * 2];
	char rel[FSPATH_MAX * 2];
};

static void lister_end(struct lister *l, int code, const char *msg)
{
	apicall_on_cancel(l->call, NULL, NULL);
	apicall_on_writable(l->call, NULL, NULL);
	apicall_finish(l->call, code, msg);
	for (int i = 0; i <= l->depth; i++)
		closedir(l->stack[i].dir);
	free(l);
}

static unsigned type_bit(mode_t m)
{
	if (S_ISDIR(m))
		return 1u << BASALT__MACHINE__LIST_REQUEST__TYPE__DIRECTORY;
	if (S_ISLNK(m))
		return 1u << BASALT__MACHINE__LIST_REQUEST__TYPE__SYMLINK;
	return 1u << BASALT__MACHINE__LIST_REQUEST__TYPE__REGULAR;
}

/* One FileInfo (the entry l->path and l->rel name), if its type is asked for (or it
 * failed: err). apicall_send's result, 0 when not sent. */
static int send_info(struct lister *l, const struct stat *st, const char *link, const char *err)
{
	Basalt__Machine__FileInfo fi = BASALT__MACHINE__FILE_INFO__INIT;

	if (!err[0] && l->types && !(l->types & type_bit(st->st_mode)))
		return 0;
	fi.name = l->path;
	fi.relative_name = l->rel[0] ? l->rel : ".";
	fi.size = st->st_size;
	fi.mode = st->st_mode;
	fi.modified = st->st_mtime;
	fi.is_dir = S_ISDIR(st->st_mode);
	fi.uid = st->st_uid;
	fi.gid = st->st_gid;
	fi.link = (char *)link;
	fi.error = (char *)err;
	return api_send(l->call, &fi.base);
}

/* The entry name of dirfd, not followed if a symlink (its target is reported); *st is
 * filled (st_mode 0 when it cannot be read). */
static int send_entry(struct lister *l, int dirfd, const char *name, struct stat *st)
{
	char link[FSPATH_MAX] = "", err[128] = "";

	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		memset(st, 0, sizeof(*st));
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, link, sizeof(link) - 1);

		link[n > 0 ? n : 0] = '\0';
	}
	return send_info(l, st, link, err);
}

/* Appends "/name" to the path and the relative path; the old lengths stay in the level. */
static void push_name(struct lister *l, const char *name)
{
	size_t pl = strlen(l->path), rl = strlen(l->rel);

	snprintf(l->path + pl, sizeof(l->path) - pl, "%s%s", pl > 1 ? "/" : "", name);
	snprintf(l->rel + rl, sizeof(l->rel) - rl, "%s%s", rl ? "/" : "", name);
}

static void lister_pump(struct lister *l)
{
	while (l->depth >= 0) {
		struct level *lv = &l->stack[l->depth];
		struct dirent *e;
		struct stat st;
		int sent, code;

		l->path[lv->plen] = '\0';
		l->rel[lv->rlen] = '\0';
		errno = 0;
		if (!(e = readdir(lv->dir))) {
			closedir(lv->dir);
			l->depth--;
			continue;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		push_name(l, e->d_name);
		sent = send_entry(l, dirfd(lv->dir), e->d_name, &st);
		if ((code = rpc_stream_check(l->call, sent))) {
			lister_end(l, code, rpc_stream_why(code));
			return;
		}
		/* Within the root's filesystem only (as find -xdev): a mount below is listed, not
		 * entered (a network or fuse mount that hangs never holds machined). */
		if (S_ISDIR(st.st_mode) && st.st_dev == l->dev && l->depth < l->max_depth) {
			int fd = openat(dirfd(lv->dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

			if (d) {
				struct level *nx = &l->stack[++l->depth];

				nx->dir = d;
				nx->plen = strlen(l->path);
				nx->rlen = strlen(l->rel);
			} else if (fd >= 0) {
				close(fd);
			}
		}
		if (sent == 1)
			return;
	}
	lister_end(l, GRPC_OK, NULL);
}

static void lister_writable(void *arg, struct apicall *c)
{
	(void)c;
	lister_pump(arg);
}

static void lister_cancel(void *arg, struct apicall *c)
{
	(void)c;
	lister_end(arg, GRPC_CANCELLED, NULL);
}

void rpc_file_list(struct api *a, struct apicall *c, enum pki_role role)
{
	Basalt__Machine__ListRequest *req = DECODE(c, Basalt__Machine__ListRequest, basalt__machine__list_request__descriptor);
	static struct fspath p;
	struct lister *l;
	struct stat st;
	int fd, sent, code;

	(void)role;
	if (!req)
		return;
	if (!(l = calloc(1, sizeof(*l)))) {
		apicall_finish(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	l->call = c;
	l->depth = -1;
	l->max_depth = !req->recurse ? 0 : req->recursion_depth > 0 && req->recursion_depth < LIST_DEPTH_MAX
							? req->recursion_depth - 1 : LIST_DEPTH_MAX - 1;
	for (size_t i = 0; i < req->n_types; i++)
		if ((unsigned)req->types[i] < 3)
			l->types |= 1u << req->types[i];
	/* The root itself is opened beneath its tree (a symlink inside the tree is followed),
	 * and reported first. */
	if ((fd = open_request(a, c, req->root && req->root[0] ? req->root : "/var", true, &p, &st)) < 0) {
		free(l);
		goto out;
	}
	snprintf(l->path, sizeof(l->path), "%s", p.full);
	l->dev = st.st_dev;
	if (S_ISDIR(st.st_mode) && (l->stack[0].dir = fdopendir(fd))) {
		l->depth = 0;
		l->stack[0].plen = strlen(l->path);
		l->stack[0].rlen = 0;
	} else {
		close(fd);
	}
	apicall_on_cancel(c, lister_cancel, l);
	apicall_on_writable(c, lister_writable, l);
	sent = send_info(l, &st, "", "");
	if ((code = rpc_stream_check(c, sent))) {
		lister_end(l, code, rpc_stream_why(code));
		goto out;
	}
	if (sent != 1)
		lister_pump(l);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

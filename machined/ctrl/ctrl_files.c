/* SPDX-License-Identifier: MIT */
/*
 * FilesController: machine.files, written under /var (runtime/FileStatus/<path>). Each
 * file is reached beneath /var (lib/fspath.c: its directories made without following a
 * symlink, so a symlink planted under /var never leads a write elsewhere) and:
 *   create     written if it is not there; an existing file is left as it is (a
 *              persistent /var keeps what the node and its workloads made of it):
 *              "unchanged" if it holds the content, "exists" if it holds another;
 *   overwrite  made to hold exactly content and permissions, replaced whole (a reader sees
 *              the old or the new file, never a mix);
 *   append     content added at its end, unless the file already ends with it (so the
 *              same config applied again, or the next boot, does not add it twice).
 * A file dropped from the config stays on disk; its status goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/config.pb-c.h"
#include "api/runtime.pb-c.h"
#include "lib/atomicfile.h"
#include "lib/fspath.h"
#include "lib/log.h"
#include "machined/ctrl/controllers.h"

static const struct rt_input inputs[] = { { RES(MACHINE_CONFIG), RT_WEAK } };
static const struct rt_output outputs[] = { { RES(FILE_STATUS), RT_EXCLUSIVE } };

struct files {
	const char *var_dir;
};

/* Writes data as dir/base, replacing it whole (temp file, fsync, rename); with noreplace
 * only if nothing is there by then (-EEXIST otherwise). 0 or -errno. */
static int replace_at(int dir, const char *base, const char *data, size_t len, mode_t mode, bool noreplace)
{
	char tmp[300];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%.200s.basalt-%d", base, (int)getpid());
	unlinkat(dir, tmp, 0);
	if ((fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
		return -errno;
	r = fd_write_all(fd, data, len);
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	if (r == 0 && syscall(SYS_renameat2, dir, tmp, dir, base, noreplace ? RENAME_NOREPLACE : 0) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

/* The file base of dir holds exactly data with mode (read through an fd that follows no symlink). */
static bool holds(int dir, const char *base, const char *data, size_t len, mode_t mode, bool at_end)
{
	int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	bool same = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (at_end ? (uint64_t)st.st_size >= len : (uint64_t)st.st_size == len && (st.st_mode & 07777) == mode)) {
		char *buf = malloc(len ? len : 1);

		same = buf && fd_pread_all(fd, buf, len, (uint64_t)st.st_size - len) == 0 && memcmp(buf, data, len) == 0;
		free(buf);
	}
	close(fd);
	return same;
}

/* Carries out one file; its state and message into st. */
static void apply_one(const struct files *fs, const Basalt__Config__File *f, Basalt__Runtime__FileStatus *st,
		      char *msg, size_t msglen)
{
	static const char *const var[] = { "var" };
	static struct fspath p;
	const char *op = f->op && f->op[0] ? f->op : "create";
	const char *data = f->content ? f->content : "";
	size_t len = strlen(data);
	mode_t mode = f->has_permissions ? (mode_t)f->permissions : 0644;
	char err[300], *slash, *base;
	int root = -1, dir = -1, r = 0;
	struct stat sb;

	st->op = strdup(op);
	st->state = "failed";
	if (fspath_split(f->path, var, 1, &p, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s", err);
		return;
	}
	if (strcmp(p.rel, ".") == 0) {
		snprintf(msg, msglen, "not a file under /var");
		return;
	}
	slash = strrchr(p.rel, '/');
	base = slash ? slash + 1 : p.rel;
	if ((root = open(fs->var_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(msg, msglen, "/var: %s", strerror(errno));
		return;
	}
	if (slash)
		*slash = '\0';
	dir = slash ? fspath_mkdirs(root, p.rel, 0755) : fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (slash)
		*slash = '/';
	if (dir < 0) {
		snprintf(msg, msglen, "its directory: %s", dir == -ENOTDIR ? "a part of the path is a symlink or a file (not followed)"
								   : strerror(-dir));
		goto out;
	}
	if (fstatat(dir, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(msg, msglen, "it is there already and is not a regular file (%s): left alone",
			 S_ISLNK(sb.st_mode) ? "a symlink, not followed" : S_ISDIR(sb.st_mode) ? "a directory" : "a special file");
		goto out;
	}
	if (strcmp(op, "create") == 0) {
		if (holds(dir, base, data, len, mode, false)) {
			st->state = "unchanged";
			goto done;
		}
		if (fstatat(dir, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			st->state = "exists";
			snprintf(msg, msglen, "there already: left as it is");
			st->size = (uint64_t)sb.st_size;
			goto out;
		}
		r = replace_at(dir, base, data, len, mode, true);
		if (r == -EEXIST) {
			st->state = "exists";
			snprintf(msg, msglen, "there already: left as it is");
			goto done;
		}
	} else if (strcmp(op, "overwrite") == 0) {
		if (holds(dir, base, data, len, mode, false)) {
			st->state = "unchanged";
			goto done;
		}
		r = replace_at(dir, base, data, len, mode, false);
	} else {
		int fd;

		if (holds(dir, base, data, len, mode, true)) {
			st->state = "unchanged";
			snprintf(msg, msglen, "it ends with the content already");
			goto done;
		}
		struct stat fst;

		/* Non-blocking, and checked on the fd: a FIFO or a hard link to another file put
		 * there meanwhile is not written to. */
		if ((fd = openat(dir, base, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				 mode)) < 0) {
			r = -errno;
		} else if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_nlink != 1) {
			close(fd);
			snprintf(msg, msglen, "it is not a regular file with one link: not appended to");
			goto out;
		} else {
			r = fd_write_all(fd, data, len);
			if (r == 0 && fsync(fd) < 0)
				r = -errno;
			close(fd);
		}
	}
	if (r < 0) {
		snprintf(msg, msglen, "write: %s", strerror(-r));
		goto out;
	}
	st->state = "written";
	log_info("files: %s: %s (%zu bytes)", p.full, strcmp(op, "append") == 0 ? "appended to" : "written", len);
done:
	if (fstatat(dir, base, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		st->size = (uint64_t)sb.st_size;
out:
	if (dir >= 0)
		close(dir);
	close(root);
}

static int reconcile(struct rt_ctx *ctx, void *arg)
{
	const struct files *fs = arg;
	const Basalt__Config__Config *cfg = res_spec(rt_get(ctx, RES(MACHINE_CONFIG), "v1alpha1"), RES(MACHINE_CONFIG));
	const Basalt__Config__Machine *m = cfg ? cfg->machine : NULL;
	unsigned failed = 0;

	for (size_t i = 0; m && i < m->n_files; i++) {
		const Basalt__Config__File *f = m->files[i];
		Basalt__Runtime__FileStatus *st;
		char msg[512] = "";
		int r;

		if (!f->path)
			continue;
		if (!(st = malloc(sizeof(*st))))
			return -ENOMEM;
		basalt__runtime__file_status__init(st);
		apply_one(fs, f, st, msg, sizeof(msg));
		if (strcmp(st->state, "failed") == 0) {
			log_warnx("files: %s: %s", f->path, msg);
			failed++;
		}
		st->state = strdup(st->state);
		st->message = strdup(msg);
		if ((r = rt_apply(ctx, res_new(RES(FILE_STATUS), f->path, &st->base))) < 0)
			return r;
	}
	return failed ? rt_fail(ctx, "%u of machine.files could not be written (osctl get files)", failed) : 0;
}

static void *state(const struct ctrl_env *env)
{
	static struct files fs;

	fs.var_dir = env->var_dir ? env->var_dir : "/var";
	return &fs;
}

const struct ctrl_def ctrl_files = {
	.rt = { .name = "FilesController", .inputs = inputs, .ninputs = 1, .outputs = outputs, .noutputs = 1,
		.reconcile = reconcile },
	.shared = state,
	.touches_machine = true,
};

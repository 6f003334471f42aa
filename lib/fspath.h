/* SPDX-License-Identifier: MIT */
/*
 * Paths a client names, kept inside the trees it may reach: the path checked and split
 * into its tree and the rest (no "..", no way out), then opened beneath that tree's
 * directory with openat2 (RESOLVE_BENEATH: neither a symlink nor a mount leads out;
 * RESOLVE_NO_MAGICLINKS: /proc's links to other processes' roots and files are refused).
 */
#ifndef BASALT_FSPATH_H
#define BASALT_FSPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FSPATH_MAX 4096

struct fspath {
	size_t tree;           /* index into the trees given to fspath_split */
	char rel[FSPATH_MAX];  /* below the tree: "." or "a/b/c" (no "", ".", ".." parts) */
	char full[FSPATH_MAX]; /* the path as checked: "/" tree "/" rel, no "." parts or "//" */
};

/*
 * Checks path (absolute, under one of trees[0..n-1], each a name like "var") and splits it.
 * 0, or -1 with err saying why (not absolute, "..", outside the trees, too long).
 */
int fspath_split(const char *path, const char *const *trees, size_t n, struct fspath *out, char *err,
		 size_t errlen);
/*
 * Files no caller reads through the API, whatever its role: kernel memory and the
 * kernel's log buffer under /proc (kcore, kmsg, kpage*, a process's mem and pagemap). p
 * is a split path whose tree is named tree ("proc", ...). NULL, or why it is refused.
 */
const char *fspath_denied(const char *tree, const struct fspath *p);
/*
 * openat2(dirfd, rel, flags|O_CLOEXEC, mode) beneath dirfd: -EXDEV when a symlink or ".."
 * leads out, -ELOOP for a magic link; the fd or -errno.
 */
int fspath_open(int dirfd, const char *rel, int flags, mode_t mode);
/*
 * The directory rel below dirfd, made where missing (mode), each part opened without
 * following a symlink. Its fd (O_DIRECTORY) or -errno (-ENOTDIR when a part is a symlink
 * or a file).
 */
int fspath_mkdirs(int dirfd, const char *rel, mode_t mode);

#endif

/* SPDX-License-Identifier: MIT */
/* Files replaced whole or not at all: temp file, fsync, rename, fsync of the directory. */
#ifndef BASALT_ATOMICFILE_H
#define BASALT_ATOMICFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Replaces path with data. After a crash, path holds the old or the new contents, never a
 * mix. Returns 0 or -errno with err naming the step that failed.
 */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
		 size_t errlen);
/*
 * The same without the fsyncs, for files made again at every boot (the runtime area's
 * hosts, resolv.conf): readers see the old or the new contents, never a mix.
 */
int atomic_replace(const char *path, const void *data, size_t len, mode_t mode, char *err,
		   size_t errlen);
/* Makes renames in dir durable. 0 or -errno with err. */
int atomic_sync_dir(const char *dir, char *err, size_t errlen);
/* Reads a whole file of at most max bytes into a NUL-terminated buffer. Caller frees.
 * 0, or -errno (-EFBIG past max; a read error fails it rather than cutting it short). */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* The same from an open fd (left open); -EAGAIN for a non-blocking fd with nothing to read. */
int read_fd(int fd, size_t max, char **out, size_t *len);
/* Writes all of data (retrying short writes and EINTR). 0 or -errno (-EIO when nothing went). */
int fd_write_all(int fd, const void *data, size_t len);
/* All of len bytes at offset off, read or written. 0 or -errno (-EIO at the end of the device). */
int fd_pread_all(int fd, void *buf, size_t len, uint64_t off);
int fd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* mkdir -p: path and every missing parent (mode). 0 or -errno. */
int mkdir_parents(const char *path, mode_t mode);

#endif

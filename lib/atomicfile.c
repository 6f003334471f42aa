/* SPDX-License-Identifier: MIT */
#include "lib/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* pread or pwrite until len bytes at off are done. */
static int at_all(int fd, void *buf, size_t len, uint64_t off, bool out)
{
	for (size_t done = 0; done < len;) {
		char *p = (char *)buf + done;
		ssize_t n = out ? pwrite(fd, p, len - done, (off_t)(off + done)) : pread(fd, p, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int fd_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return at_all(fd, buf, len, off, false);
}

int fd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return at_all(fd, (void *)buf, len, off, true);
}

int mkdir_parents(const char *path, mode_t mode)
{
	char tmp[4096];

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(tmp, mode) < 0 && errno != EEXIST ? -errno : 0;
}

static int replace(const char *path, const void *data, size_t len, mode_t mode, bool durable, char *err,
		   size_t errlen)
{
	char dirbuf[4096], basebuf[4096], tmp[4200];
	const char *step = "open directory";
	int dirfd = -1, fd = -1, r = 0;
	static unsigned counter;

	if (strlen(path) >= sizeof(dirbuf)) {
		snprintf(err, errlen, "write %s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(dirbuf, path);
	strcpy(basebuf, path);
	dirfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		goto fail;
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%d.%u", basename(basebuf), (int)getpid(), counter++);
	step = "create temporary file";
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		goto fail;
	step = "write";
	r = fd_write_all(fd, data, len);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	step = "fsync";
	if (durable && fsync(fd) < 0)
		goto fail;
	step = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename into place";
	if (renameat(dirfd, tmp, dirfd, basename(basebuf)) < 0)
		goto fail;
	/* The rename is durable only once the directory is. */
	step = "fsync directory";
	if (durable && fsync(dirfd) < 0)
		goto fail;
	close(dirfd);
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "write %s: %s: %s", path, step, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0) {
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
	}
	return r;
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen)
{
	return replace(path, data, len, mode, true, err, errlen);
}

int atomic_replace(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen)
{
	return replace(path, data, len, mode, false, err, errlen);
}

int atomic_sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "fsync directory %s: %s", dir, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return r;
}

int read_fd(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int r = 0;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	/* A file of /proc says it has 0 bytes: read it to its end, in steps. */
	cap = st.st_size ? (size_t)st.st_size : 16384 < max ? 16384 : max;
	if (!(buf = malloc(cap + 1))) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			char *nb;

			if (st.st_size || cap >= max)
				break;  /* a regular file that grew underneath us: take its size at open */
			cap = cap * 2 < max ? cap * 2 : max;
			if (!(nb = realloc(buf, cap + 1))) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = -EAGAIN;  /* a FIFO or a device with nothing to read: never waited for */
			goto out;
		}
		if (n < 0) {
			r = -errno;  /* an I/O error: nothing half-read is handed on */
			goto out;
		}
		if (n == 0)
			break;  /* a file that shrank underneath us: take what is there */
		got += (size_t)n;
	}
	if (!st.st_size && got == max) {
		char c;

		if (read(fd, &c, 1) == 1) {
			r = -EFBIG;
			goto out;
		}
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	return r;
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = read_fd(fd, max, out, len);
	close(fd);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * mkcpio: writes a directory tree as a newc cpio archive (the initramfs format) to stdout,
 * reproducibly: entries sorted by path, owner 0:0, one mtime, inode numbers in order.
 *   mkcpio [-t MTIME] [-n PATH:MODE:MAJOR:MINOR]... DIR
 * -n adds a character device node (e.g. /dev/console:600:5:1) without needing root.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NODES 16

struct node {
	char path[256];
	unsigned mode, major, minor;
};

static unsigned long mtime;
static unsigned long next_ino = 1;
static unsigned long long written;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "mkcpio: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void out(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		fprintf(stderr, "mkcpio: write: %s\n", strerror(errno));
		exit(1);
	}
	written += n;
}

static void pad4(void)
{
	static const char zeros[4];

	if (written % 4)
		out(zeros, 4 - written % 4);
}

/* newc stores each field as 8 hex digits: anything over 32 bits cannot be archived. */
static void put_field(char *at, unsigned long long v, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";

	if (v > 0xffffffffULL) {
		fprintf(stderr, "mkcpio: %s: value %llu does not fit the cpio format\n", name, v);
		exit(1);
	}
	for (int i = 7; i >= 0; i--, v >>= 4)
		at[i] = hex[v & 15];
}

static void header(const char *name, unsigned mode, unsigned long size, unsigned nlink,
		   unsigned rmaj, unsigned rmin)
{
	bool trailer = strcmp(name, "TRAILER!!!") == 0;
	unsigned long long f[13] = {
		trailer ? 0 : next_ino++, mode, 0, 0, nlink, mtime, size, 0, 0, rmaj, rmin,
		strlen(name) + 1, 0,
	};
	char h[110];

	memcpy(h, "070701", 6);
	for (int i = 0; i < 13; i++)
		put_field(h + 6 + 8 * i, f[i], name);
	out(h, sizeof(h));
	out(name, strlen(name) + 1);
	pad4();
}

static void copy_file(const char *src, unsigned long size)
{
	char buf[65536];
	unsigned long left = size;
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open", src);
	while (left > 0) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0) {
			errno = n < 0 ? errno : EIO;
			die("read (file changed while archiving?)", src);
		}
		out(buf, (size_t)n);
		left -= (unsigned long)n;
	}
	close(fd);
	pad4();
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Emits rel (relative to root) and, for directories, everything below it in sorted order. */
static void emit(const char *root, const char *rel)
{
	char src[4096];
	struct stat st;

	snprintf(src, sizeof(src), "%s/%s", root, rel);
	if (lstat(src, &st) < 0)
		die("stat", src);
	if (S_ISREG(st.st_mode)) {
		header(rel, S_IFREG | (st.st_mode & 07777), (unsigned long)st.st_size, 1, 0, 0);
		copy_file(src, (unsigned long)st.st_size);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0)
			die("readlink", src);
		header(rel, S_IFLNK | 0777, (unsigned long)n, 1, 0, 0);
		out(target, (size_t)n);
		pad4();
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (strcmp(rel, ".") != 0)
			header(rel, S_IFDIR | (st.st_mode & 07777), 0, 2, 0, 0);
		d = opendir(src);
		if (!d)
			die("opendir", src);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			names = realloc(names, (n + 1) * sizeof(*names));
			if (!names || !(names[n++] = strdup(de->d_name)))
				die("allocate", src);
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_names);
		for (size_t i = 0; i < n; i++) {
			char child[4096];

			snprintf(child, sizeof(child), "%s/%s", rel, names[i]);
			emit(root, strcmp(rel, ".") == 0 ? names[i] : child);
			free(names[i]);
		}
		free(names);
	} else {
		fprintf(stderr, "mkcpio: %s: unsupported file type (use -n for device nodes)\n", src);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct node nodes[MAX_NODES];
	size_t nnodes = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		switch (opt) {
		case 't':
			mtime = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			if (nnodes == MAX_NODES ||
			    sscanf(optarg, "%255[^:]:%o:%u:%u", nodes[nnodes].path, &nodes[nnodes].mode,
				   &nodes[nnodes].major, &nodes[nnodes].minor) != 4) {
				fprintf(stderr, "mkcpio: -n %s: want PATH:MODE:MAJOR:MINOR\n", optarg);
				return 2;
			}
			nnodes++;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: mkcpio [-t MTIME] [-n PATH:MODE:MAJOR:MINOR]... DIR\n");
		return 2;
	}
	emit(argv[optind], ".");
	for (size_t i = 0; i < nnodes; i++) {
		const char *p = nodes[i].path[0] == '/' ? nodes[i].path + 1 : nodes[i].path;

		header(p, S_IFCHR | nodes[i].mode, 0, 1, nodes[i].major, nodes[i].minor);
	}
	header("TRAILER!!!", 0, 0, 1, 0, 0);
	/* The kernel reads the archive in 512-byte blocks. */
	while (written % 512)
		out("", 1);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * apid's confinement: when started as root, it moves into a mount namespace of its own
 * whose root is an empty read-only tmpfs, then becomes uid/gid 65534 with no supplementary
 * groups (so no capabilities), no new privileges, not dumpable, under a seccomp filter that
 * allows only the system calls an event loop serving sockets needs (socket(2) for IPv4 and
 * IPv6 only, no openat); any other call kills the process.
 */
#ifndef BASALT_SANDBOX_H
#define BASALT_SANDBOX_H

#include <stddef.h>

#define SANDBOX_UID 65534
#define SANDBOX_GID 65534
#define SANDBOX_ROOT "/proc"     /* the mount point the empty root is made on (it always exists) */

int sandbox_enter(char *err, size_t errlen);

#endif

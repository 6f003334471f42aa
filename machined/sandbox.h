/* SPDX-License-Identifier: MIT */
/*
 * apid's confinement: when started as root, it becomes uid/gid 65534 with no
 * supplementary groups (so no capabilities), no new privileges, not dumpable, and a
 * seccomp filter that allows only the system calls an event loop serving sockets needs;
 * any other call kills the process.
 */
#ifndef BASALT_SANDBOX_H
#define BASALT_SANDBOX_H

#include <stddef.h>

#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

int sandbox_enter(char *err, size_t errlen);

#endif

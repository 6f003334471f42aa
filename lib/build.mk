# SPDX-License-Identifier: MIT
# lib core: what init may link (no TLS, HTTP/2 or YAML). compat: fortify shims for the
# glibc-built static archives, linked only into binaries that use those archives.
LIB_CORE_SRCS := lib/log.c lib/loop.c lib/buf.c lib/frame.c lib/ring.c lib/backoff.c \
	lib/cmdline.c lib/spawn.c
LIB_COMPAT_SRCS := lib/compat/fortify.c

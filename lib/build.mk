# SPDX-License-Identifier: MIT
# lib core: what init may link (no TLS, HTTP/2 or YAML). compat: fortify shims for the
# glibc-built static archives, linked only into binaries that use those archives.
LIB_CORE_SRCS := lib/log.c lib/loop.c lib/buf.c lib/frame.c lib/ring.c lib/backoff.c \
	lib/cmdline.c lib/spawn.c lib/svcstate.c lib/mountinfo.c
LIB_COMPAT_SRCS := lib/compat/fortify.c lib/compat/isoc23.c lib/compat/fmt.c lib/compat/memcpy.c
# lib full: for machined and osctl (TLS, YAML, the machine config).
LIB_FULL_SRCS := lib/diag.c lib/pbyaml.c lib/jsonpatch.c lib/mconfig.c lib/parse.c lib/atomicfile.c \
	lib/rng.c lib/pki.c lib/tls.c lib/grpc.c lib/h2conn.c lib/grpc_server.c lib/grpc_client.c lib/apidef.c lib/restypes.c lib/linediff.c lib/keyset.c lib/http.c lib/gpt.c lib/fspath.c \
	lib/discovery.c lib/discovery_srv.c lib/affiliate.c lib/wgkey.c
# A memcpy that must not become a call to itself.
$(call musl_objs,lib/compat/memcpy.c): MUSL_CFLAGS += -fno-tree-loop-distribute-patterns
$(OUT)/host/tests/unit/test_memcpy.o: HOST_CFLAGS += -fno-tree-loop-distribute-patterns
# These see the full header set; lib's core (and so init) never does.
$(call musl_objs,$(LIB_FULL_SRCS)): SYSROOT := $(SYSROOT_FULL)

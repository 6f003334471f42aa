# SPDX-License-Identifier: MIT
# discoveryd: the discovery registry as a daemon of its own (static musl, in the image too).
DISCOVERYD_SRCS := hack/discoveryd.c lib/discovery.c lib/discovery_srv.c lib/grpc.c lib/h2conn.c lib/grpc_server.c \
	lib/tls.c lib/pki.c lib/rng.c lib/atomicfile.c lib/parse.c
$(OUT)/bin/discoveryd: $(call musl_objs,$(DISCOVERYD_SRCS) $(LIB_CORE_SRCS) $(LIB_COMPAT_SRCS) $(OUT)/gen/api/discovery.pb-c.c)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) $(MUSL_MAP) -o $@ $^ $(A_MBEDTLS) $(A_NGHTTP2) $(A_PROTOBUF)

BINS += $(OUT)/bin/discoveryd

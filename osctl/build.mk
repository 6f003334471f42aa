# SPDX-License-Identifier: MIT
OSCTL_SRCS := $(wildcard osctl/*.c osctl/*/*.c)
OSCTL_OBJS := $(call musl_objs,$(OSCTL_SRCS) $(LIB_CORE_SRCS) $(LIB_FULL_SRCS) \
	$(LIB_COMPAT_SRCS) $(GEN_API))

$(OUT)/bin/osctl: $(OSCTL_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) $(MUSL_MAP) -o $@ $^ $(A_FYAML) $(A_MBEDTLS) $(A_NGHTTP2) $(A_PROTOBUF)

BINS += $(OUT)/bin/osctl

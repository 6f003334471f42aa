# SPDX-License-Identifier: MIT
MACHINED_SRCS := $(wildcard machined/*.c machined/*/*.c netctl/*.c)
MACHINED_OBJS := $(call musl_objs,$(MACHINED_SRCS) $(LIB_CORE_SRCS) $(LIB_FULL_SRCS) \
	$(LIB_COMPAT_SRCS) $(GEN_INIT) $(GEN_API))

$(OUT)/bin/machined: $(MACHINED_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) $(MUSL_MAP) -o $@ $^ $(A_FYAML) $(A_MBEDTLS) $(A_NGHTTP2) $(A_PROTOBUF)

BINS += $(OUT)/bin/machined

# SPDX-License-Identifier: MIT
INIT_SRCS := $(wildcard init/*.c)
INIT_OBJS := $(call musl_objs,$(INIT_SRCS) $(LIB_CORE_SRCS) $(GEN_INIT))

$(OUT)/bin/init: $(INIT_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) $(MUSL_MAP) -o $@ $^ $(A_PROTOBUF)

BINS += $(OUT)/bin/init

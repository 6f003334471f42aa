# SPDX-License-Identifier: MIT
# protoc-c generates C for api/*.proto into $(OUT)/gen/api; nothing generated enters git.
PROTOS := $(wildcard api/*.proto)
GEN_SRCS := $(patsubst %.proto,$(OUT)/gen/%.pb-c.c,$(PROTOS))
GEN_HEADERS := $(GEN_SRCS:.c=.h)

$(OUT)/gen/api/%.pb-c.c $(OUT)/gen/api/%.pb-c.h &: api/%.proto | $(DEPS_STAMP)
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(OUT)/gen
	$(Q)protoc-c --c_out=$(OUT)/gen $<

GEN_INIT := $(OUT)/gen/api/init.pb-c.c
# Everything but init.proto: what machined and osctl use besides the init protocol.
GEN_API := $(filter-out $(GEN_INIT),$(GEN_SRCS))

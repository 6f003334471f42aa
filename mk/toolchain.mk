# SPDX-License-Identifier: MIT
# Compilers, flags, quiet rules, the dependency stamp and the two include sysroots.

V ?= 0
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)'
endif

$(DEPS_STAMP): hack/deps.sh
	$(call msg,DEPS,apt packages)
	$(Q)mkdir -p $(@D)
	$(Q)hack/deps.sh
	$(Q)touch $@

MUSL_CC := musl-gcc
HOST_CC := gcc
FUZZ_CC := clang

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wimplicit-fallthrough
VERSION := $(shell cat VERSION)
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -DBASALT_VERSION='"$(VERSION)"' $(WARN) -fstack-protector-strong \
	-ffile-prefix-map=$(CURDIR)/= -MMD -MP -I. -I$(OUT)/gen
MUSL_CFLAGS := $(BASE_CFLAGS) -Os -ffunction-sections -fdata-sections
MUSL_LDFLAGS := -static -Wl,--gc-sections -Wl,--build-id=none
# Tests and fuzzers fill uninitialised locals with a pattern, so a read of one (a string
# never written, say) fails the same way in every run instead of by the stack's luck.
HOST_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -ftrivial-auto-var-init=pattern
HOST_LDFLAGS := -fsanitize=address,undefined
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. -I$(OUT)/gen \
	-MMD -MP -ftrivial-auto-var-init=pattern

# Header sysroots for musl builds. "core" is all init may see (kernel uapi, protobuf-c);
# "full" adds the TLS, HTTP/2, YAML and netlink libraries. glibc's own headers never appear.
SYSROOT_CORE := $(OUT)/sysroot/core/include
SYSROOT_FULL := $(OUT)/sysroot/full/include
CORE_HEADERS := /usr/include/linux /usr/include/x86_64-linux-gnu/asm /usr/include/asm-generic \
	/usr/include/protobuf-c
FULL_HEADERS := $(CORE_HEADERS) /usr/include/mbedtls /usr/include/psa /usr/include/nghttp2 \
	/usr/include/libfyaml.h /usr/include/libnl3/netlink

$(SYSROOT_CORE)/.stamp: mk/toolchain.mk | $(DEPS_STAMP)
	$(call msg,SYSROOT,core)
	$(Q)rm -rf $(@D) && mkdir -p $(@D)
	$(Q)for h in $(CORE_HEADERS); do ln -s $$h $(@D)/$$(basename $$h); done
	$(Q)touch $@

$(SYSROOT_FULL)/.stamp: mk/toolchain.mk | $(DEPS_STAMP)
	$(call msg,SYSROOT,full)
	$(Q)rm -rf $(@D) && mkdir -p $(@D)
	$(Q)for h in $(FULL_HEADERS); do ln -s $$h $(@D)/$$(basename $$h); done
	$(Q)touch $@

# Static archives from Debian, linked in full-sysroot binaries.
LIBDIR := /usr/lib/x86_64-linux-gnu
A_PROTOBUF := $(LIBDIR)/libprotobuf-c.a
A_MBEDTLS := $(LIBDIR)/libmbedtls.a $(LIBDIR)/libmbedx509.a $(LIBDIR)/libmbedcrypto.a
A_NGHTTP2 := $(LIBDIR)/libnghttp2.a
A_FYAML := $(LIBDIR)/libfyaml.a
A_NL := $(LIBDIR)/libnl-route-3.a /lib/x86_64-linux-gnu/libnl-genl-3.a /lib/x86_64-linux-gnu/libnl-3.a

# Which sysroot a musl object is compiled against, by source directory.
$(OUT)/musl/init/%.o: SYSROOT := $(SYSROOT_CORE)
$(OUT)/musl/lib/%.o: SYSROOT := $(SYSROOT_CORE)
$(OUT)/musl/gen/%.o: SYSROOT := $(SYSROOT_CORE)
SYSROOT ?= $(SYSROOT_FULL)

$(OUT)/musl/%.o: %.c $(SYSROOT_CORE)/.stamp $(SYSROOT_FULL)/.stamp | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -isystem $(SYSROOT) -c $< -o $@

$(OUT)/musl/gen/%.o: $(OUT)/gen/%.c $(SYSROOT_CORE)/.stamp | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -isystem $(SYSROOT) -c $< -o $@

$(OUT)/host/%.o: %.c | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(OUT)/host/gen/%.o: $(OUT)/gen/%.c | $(DEPS_STAMP)
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(OUT)/fuzz/%.o: %.c | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(OUT)/fuzz/gen/%.o: $(OUT)/gen/%.c | $(DEPS_STAMP)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# musl_objs/host_objs/fuzz_objs map source files to their object files.
musl_objs = $(patsubst %.c,$(OUT)/musl/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))
host_objs = $(patsubst %.c,$(OUT)/host/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))
fuzz_objs = $(patsubst %.c,$(OUT)/fuzz/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))

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

# The build sysroot (mk/sysroot.lock): musl, kernel headers and the static libraries, from
# pinned packages extracted and merged into $(SR). musl builds see nothing else: gcc runs
# with a specs file of ours (-nostdinc, musl's start files and libc from $(SR)); the
# compiler's own headers and libgcc are the only parts of the host in a shipped binary.
DL_CACHE ?= $(OUT)/dl
SYSROOT_DIR := $(OUT)/sysroot
SR := $(abspath $(SYSROOT_DIR)/root)
SYSROOT_STAMP := $(SYSROOT_DIR)/.stamp
MUSL_SPECS := $(abspath $(SYSROOT_DIR)/musl-gcc.specs)

$(SYSROOT_STAMP): mk/sysroot.lock mk/musl-gcc.specs.in image/fetch-debs.sh image/apt.sh | $(DEPS_STAMP)
	$(call msg,SYSROOT,$(SR))
	$(Q)image/fetch-debs.sh mk/sysroot.lock $(DL_CACHE) $(SYSROOT_DIR)/debs
	$(Q)rm -rf $(SR) && mkdir -p $(SR)
	$(Q)for p in $$(awk '!/^#/ && NF { print $$1 }' mk/sysroot.lock); do \
		cp -a $(SYSROOT_DIR)/debs/$$p/. $(SR)/ || exit 1; done
	$(Q)rm -f $(SR)/.sha256
	$(Q)sed 's|@SR@|$(SR)|g' mk/musl-gcc.specs.in >$(MUSL_SPECS)
	$(Q)touch $@

HOST_CC := gcc
MUSL_CC := $(HOST_CC) -specs $(MUSL_SPECS)
FUZZ_CC := clang

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wimplicit-fallthrough
VERSION := $(shell cat VERSION)
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -DBASALT_VERSION='"$(VERSION)"' $(WARN) -fstack-protector-strong \
	-ffile-prefix-map=$(CURDIR)/= -MMD -MP -I. -I$(OUT)/gen
MUSL_CFLAGS := $(BASE_CFLAGS) -Os -ffunction-sections -fdata-sections
MUSL_LDFLAGS := -static -Wl,--gc-sections -Wl,--build-id=none
# Shipped binaries keep their link map beside them: tests/image/inputs.sh reads in it that
# every archive and object came from the sysroot (or the compiler's own runtime).
MUSL_MAP = -Wl,-Map=$@.map
# Tests and fuzzers fill uninitialised locals with a pattern, so a read of one (a string
# never written, say) fails the same way in every run instead of by the stack's luck.
HOST_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -ftrivial-auto-var-init=pattern
HOST_LDFLAGS := -fsanitize=address,undefined
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. -I$(OUT)/gen \
	-MMD -MP -ftrivial-auto-var-init=pattern

# Header views of $(SR) for musl builds. "core" is all init may see (kernel uapi,
# protobuf-c); "full" adds the TLS, HTTP/2, YAML and netlink libraries. "libs" is the
# libraries alone, for the tests' glibc builds of the same code (their libc and kernel
# headers are the host's).
SYSROOT_CORE := $(SYSROOT_DIR)/core/include
SYSROOT_FULL := $(SYSROOT_DIR)/full/include
SYSROOT_LIBS := $(SYSROOT_DIR)/libs/include
LIB_HEADERS := $(SR)/usr/include/protobuf-c $(SR)/usr/include/mbedtls $(SR)/usr/include/psa \
	$(SR)/usr/include/nghttp2 $(SR)/usr/include/libfyaml.h $(SR)/usr/include/libnl3/netlink
CORE_HEADERS := $(SR)/usr/include/linux $(SR)/usr/include/x86_64-linux-gnu/asm \
	$(SR)/usr/include/asm-generic $(SR)/usr/include/protobuf-c
FULL_HEADERS := $(CORE_HEADERS) $(filter-out %/protobuf-c,$(LIB_HEADERS))

# header_view DIR PATHS: DIR/include holds a link to each of PATHS (which must exist).
define header_view
$(1)/.stamp: $(SYSROOT_STAMP) mk/toolchain.mk
	$$(call msg,SYSROOT,$(1))
	$$(Q)rm -rf $(1) && mkdir -p $(1)
	$$(Q)for h in $(2); do [ -e $$$$h ] || { echo "sysroot: $$$$h missing (mk/sysroot.lock)" >&2; exit 1; }; \
		ln -s $$$$h $(1)/$$$$(basename $$$$h); done
	$$(Q)touch $$@
endef
$(eval $(call header_view,$(SYSROOT_CORE),$(CORE_HEADERS)))
$(eval $(call header_view,$(SYSROOT_FULL),$(FULL_HEADERS)))
$(eval $(call header_view,$(SYSROOT_LIBS),$(LIB_HEADERS)))

# Static archives from the sysroot, linked into shipped binaries and the tests' builds.
LIBDIR := $(SR)/usr/lib/x86_64-linux-gnu
A_PROTOBUF := $(LIBDIR)/libprotobuf-c.a
A_MBEDTLS := $(LIBDIR)/libmbedtls.a $(LIBDIR)/libmbedx509.a $(LIBDIR)/libmbedcrypto.a
A_NGHTTP2 := $(LIBDIR)/libnghttp2.a
A_FYAML := $(LIBDIR)/libfyaml.a
A_NL := $(LIBDIR)/libnl-route-3.a $(LIBDIR)/libnl-genl-3.a $(LIBDIR)/libnl-3.a
# Every library but netlink, for the tests' host and fuzz links, with the C23 entry points
# the build host's glibc 2.36 lacks (linked as sources into each of those programs).
HOST_LIBS := $(A_FYAML) $(A_MBEDTLS) $(A_NGHTTP2) $(A_PROTOBUF)
HOST_COMPAT_SRCS := lib/compat/isoc23.c lib/compat/fmt.c
HOST_LIB_CFLAGS := -isystem $(SYSROOT_LIBS)
$(A_PROTOBUF) $(A_MBEDTLS) $(A_NGHTTP2) $(A_FYAML) $(A_NL): $(SYSROOT_STAMP)

# Which sysroot a musl object is compiled against, by source directory.
$(OUT)/musl/init/%.o: SYSROOT := $(SYSROOT_CORE)
$(OUT)/musl/lib/%.o: SYSROOT := $(SYSROOT_CORE)
$(OUT)/musl/gen/%.o: SYSROOT := $(SYSROOT_CORE)
SYSROOT ?= $(SYSROOT_FULL)

$(OUT)/musl/%.o: %.c $(SYSROOT_CORE)/.stamp $(SYSROOT_FULL)/.stamp $(SYSROOT_STAMP) | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -isystem $(SYSROOT) -c $< -o $@

$(OUT)/musl/gen/%.o: $(OUT)/gen/%.c $(SYSROOT_CORE)/.stamp $(SYSROOT_STAMP) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -isystem $(SYSROOT) -c $< -o $@

$(OUT)/host/%.o: %.c $(SYSROOT_LIBS)/.stamp | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(HOST_LIB_CFLAGS) -c $< -o $@

$(OUT)/host/gen/%.o: $(OUT)/gen/%.c $(SYSROOT_LIBS)/.stamp | $(DEPS_STAMP)
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(HOST_LIB_CFLAGS) -c $< -o $@

$(OUT)/fuzz/%.o: %.c $(SYSROOT_LIBS)/.stamp | $(DEPS_STAMP) $(GEN_HEADERS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(HOST_LIB_CFLAGS) -c $< -o $@

$(OUT)/fuzz/gen/%.o: $(OUT)/gen/%.c $(SYSROOT_LIBS)/.stamp | $(DEPS_STAMP)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(HOST_LIB_CFLAGS) -c $< -o $@

# musl_objs/host_objs/fuzz_objs map source files to their object files.
musl_objs = $(patsubst %.c,$(OUT)/musl/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))
host_objs = $(patsubst %.c,$(OUT)/host/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))
fuzz_objs = $(patsubst %.c,$(OUT)/fuzz/%.o,$(patsubst $(OUT)/gen/%,gen/%,$(1)))

# For tests/image/inputs.sh: the compiler command and header views musl builds use.
.PHONY: print-toolchain
print-toolchain:
	@echo "MUSL_CC=$(MUSL_CC)"
	@echo "SYSROOT_CORE=$(abspath $(SYSROOT_CORE))"
	@echo "SYSROOT_FULL=$(abspath $(SYSROOT_FULL))"
	@echo "SR=$(SR)"

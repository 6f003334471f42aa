# SPDX-License-Identifier: MIT
# Basalt: non-recursive build. `make` builds, `make test` tests, `make image` writes boot
# assets, `make run` boots them. Every goal installs missing Debian packages first.
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

OUT ?= _out
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 1700000000)

DEPS_STAMP := $(OUT)/.deps-stamp
include api/build.mk
include mk/toolchain.mk
include lib/build.mk
include init/build.mk
include machined/build.mk
include osctl/build.mk
include netctl/build.mk
include hack/build.mk
include kernel/build.mk
include rootfs/build.mk
include image/build.mk
include tests/build.mk

.PHONY: all deps clean distclean
all: $(BINS)

deps: $(DEPS_STAMP)

clean:
	rm -rf $(OUT)/musl $(OUT)/host $(OUT)/fuzz $(OUT)/gen $(OUT)/bin $(OUT)/image $(OUT)/sysroot

distclean:
	rm -rf $(OUT)

-include $(shell find $(OUT)/musl $(OUT)/host $(OUT)/fuzz -name '*.d' 2>/dev/null)

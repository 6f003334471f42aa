# SPDX-License-Identifier: MIT
# The pinned kernel package, fetched once into the download cache and extracted.
KERNEL_PKG := $(shell awk '!/^\#/ && NF { print $$1; exit }' kernel/kernel.lock)
KREL := $(patsubst linux-image-%,%,$(KERNEL_PKG))
DL_CACHE ?= $(OUT)/dl
PKGDIR := $(OUT)/pkg
KERNEL_STAMP := $(PKGDIR)/.kernel-stamp
KMODDIR := $(PKGDIR)/$(KERNEL_PKG)/lib/modules/$(KREL)

$(KERNEL_STAMP): kernel/kernel.lock image/fetch-debs.sh | $(DEPS_STAMP)
	$(call msg,FETCH,$(KERNEL_PKG))
	$(Q)image/fetch-debs.sh kernel/kernel.lock $(DL_CACHE) $(PKGDIR)
	$(Q)depmod -b $(PKGDIR)/$(KERNEL_PKG) $(KREL)
	$(Q)touch $@

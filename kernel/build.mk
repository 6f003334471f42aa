# SPDX-License-Identifier: MIT
# The pinned kernel package, fetched once into the download cache and extracted. It is
# found under the name it is locked as even when a drifted build used its successor (a
# new ABI name): KMODDIR and the kernel image are links to whatever release it holds.
KERNEL_PKG := $(shell awk '!/^\#/ && NF { print $$1; exit }' kernel/kernel.lock)
DL_CACHE ?= $(OUT)/dl
PKGDIR := $(OUT)/pkg
KERNEL_STAMP := $(PKGDIR)/.kernel-stamp
KMODDIR := $(PKGDIR)/kernel-modules
KIMAGE := $(PKGDIR)/kernel-image
LOCKS := kernel/kernel.lock rootfs/packages.lock mk/sysroot.lock image/boot.lock

$(KERNEL_STAMP): kernel/kernel.lock image/fetch-debs.sh image/apt.sh | $(DEPS_STAMP)
	$(call msg,FETCH,$(KERNEL_PKG))
	$(Q)image/fetch-debs.sh kernel/kernel.lock $(DL_CACHE) $(PKGDIR)
	$(Q)set -e; root=$(PKGDIR)/$(KERNEL_PKG); \
		[ -e $$root/lib ] || ln -s usr/lib $$root/lib; \
		krel=$$(ls $$root/lib/modules); \
		[ $$(echo "$$krel" | wc -w) = 1 ] || { echo "kernel: want one release in $$root, found: $$krel" >&2; exit 1; }; \
		depmod -b $$root $$krel; \
		ln -sfn $(KERNEL_PKG)/lib/modules/$$krel $(KMODDIR); \
		ln -sfn $(KERNEL_PKG)/boot/vmlinuz-$$krel $(KIMAGE)
	$(Q)touch $@

# Rewrites every lock from what Debian serves now and shows the diff.
.PHONY: relock
relock: | $(DEPS_STAMP)
	$(Q)image/relock.sh $(DL_CACHE) $(LOCKS)
	$(Q)rm -f $(OUT)/lock-drift

# SPDX-License-Identifier: MIT
# Pinned third-party packages for the root image.
ROOTFS_STAMP := $(PKGDIR)/.rootfs-stamp
ROOTFS_INPUTS := $(shell find rootfs -type f) VERSION

$(ROOTFS_STAMP): rootfs/packages.lock image/fetch-debs.sh image/apt.sh | $(DEPS_STAMP)
	$(call msg,FETCH,rootfs packages)
	$(Q)image/fetch-debs.sh rootfs/packages.lock $(DL_CACHE) $(PKGDIR)
	$(Q)touch $@

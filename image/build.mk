# SPDX-License-Identifier: MIT
# Boot assets: $(OUT)/vmlinuz and $(OUT)/initramfs.xz (which carries rootfs.sqsh).
IMG := $(OUT)/image
TOOL_CFLAGS := -std=c17 -D_GNU_SOURCE -O2 $(WARN) -I.

$(OUT)/tools/mkcpio: image/mkcpio.c | $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(TOOL_CFLAGS) -o $@ $^

$(OUT)/tools/modclosure: image/modclosure.c init/kmod.c init/kmod.h | $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(TOOL_CFLAGS) -o $@ image/modclosure.c init/kmod.c

$(IMG)/modules-early.paths: kernel/modules-early.list $(KERNEL_STAMP) $(OUT)/tools/modclosure
	$(call msg,MODULES,early closure)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUT)/tools/modclosure $(KMODDIR) kernel/modules-early.list >$@

$(IMG)/modules-rootfs.paths: kernel/modules-early.list kernel/modules-rootfs.list $(KERNEL_STAMP) \
		$(OUT)/tools/modclosure
	$(call msg,MODULES,rootfs closure)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUT)/tools/modclosure $(KMODDIR) kernel/modules-early.list kernel/modules-rootfs.list >$@

$(IMG)/rootfs.sqsh: $(BINS) $(ROOTFS_INPUTS) $(ROOTFS_STAMP) $(IMG)/modules-rootfs.paths \
		image/mkrootfs.sh image/modules.sh
	$(call msg,SQUASHFS,$@)
	$(Q)image/mkrootfs.sh $(IMG)/rootfs $@ $(OUT)/bin $(PKGDIR) $(KMODDIR) \
		$(IMG)/modules-rootfs.paths 1

# The same root without containerd/runc, for the size comparison of the benchmark.
$(IMG)/rootfs-min.sqsh: $(BINS) $(ROOTFS_INPUTS) $(IMG)/modules-rootfs.paths image/mkrootfs.sh \
		image/modules.sh
	$(call msg,SQUASHFS,$@)
	$(Q)image/mkrootfs.sh $(IMG)/rootfs-min $@ $(OUT)/bin $(PKGDIR) $(KMODDIR) \
		$(IMG)/modules-rootfs.paths 0

$(OUT)/initramfs.xz: $(OUT)/bin/init $(IMG)/rootfs.sqsh $(IMG)/modules-early.paths \
		kernel/modules.early image/mkinitramfs.sh image/modules.sh $(OUT)/tools/mkcpio
	$(call msg,INITRAMFS,$@)
	$(Q)image/mkinitramfs.sh $(IMG)/initramfs $@ $(OUT)/bin/init $(IMG)/rootfs.sqsh \
		$(KMODDIR) $(IMG)/modules-early.paths $(OUT)/tools/mkcpio

$(OUT)/vmlinuz: $(KERNEL_STAMP)
	$(call msg,KERNEL,$@)
	$(Q)cp $(KIMAGE) $@
	$(Q)touch $@

# A trivial PID 1 in its own initramfs: the KVM probe, and the benchmark's kernel floor.
$(IMG)/probe.xz: $(call musl_objs,image/probeinit.c) $(OUT)/tools/mkcpio
	$(call msg,INITRAMFS,$@)
	$(Q)rm -rf $(IMG)/probe && mkdir -p $(IMG)/probe/dev
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -s -o $(IMG)/probe/init $<
	$(Q)$(OUT)/tools/mkcpio -t 0 -n /dev/console:600:5:1 $(IMG)/probe | xz --check=crc32 -T1 >$@

# GRUB for every boot medium, from the pinned packages of image/boot.lock. The media are
# marked by a file named after the sources' date, so GRUB finds its own medium.
BOOTPKG := $(OUT)/pkg-boot
BOOT_STAMP := $(BOOTPKG)/.stamp
MEDIUM_ID := basalt-$(shell cat VERSION)-$(SOURCE_DATE_EPOCH)
GRUB_STAMP := $(IMG)/grub/.stamp-$(MEDIUM_ID)
$(BOOT_STAMP): image/boot.lock image/fetch-debs.sh image/apt.sh | $(DEPS_STAMP)
	$(call msg,FETCH,boot packages)
	$(Q)image/fetch-debs.sh image/boot.lock $(DL_CACHE) $(BOOTPKG)
	$(Q)touch $@

$(GRUB_STAMP): $(BOOT_STAMP) image/mkgrub.sh
	$(call msg,GRUB,$(IMG)/grub)
	$(Q)image/mkgrub.sh $(BOOTPKG) $(IMG)/grub $(MEDIUM_ID)
	$(Q)touch $@

ISO := $(OUT)/basalt-amd64.iso
$(ISO): $(GRUB_STAMP) $(OUT)/vmlinuz $(OUT)/initramfs.xz image/mkiso.sh image/grubcfg.sh VERSION
	$(call msg,ISO,$@)
	$(Q)image/mkiso.sh $@ $(IMG)/grub $(MEDIUM_ID) $(OUT)/vmlinuz $(OUT)/initramfs.xz

# The system disk image, raw and qcow2 (image/mkdisk.sh, with the GPT of lib/gpt.c).
DISK_RAW := $(OUT)/basalt-amd64.raw
DISK_QCOW := $(OUT)/basalt-amd64.qcow2
$(OUT)/tools/mkdisk: image/mkdisk.c lib/gpt.c lib/gpt.h | $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(TOOL_CFLAGS) -o $@ image/mkdisk.c lib/gpt.c
$(DISK_QCOW): $(DISK_RAW)
$(DISK_RAW): $(GRUB_STAMP) $(OUT)/vmlinuz $(OUT)/initramfs.xz image/mkdisk.sh image/grubcfg.sh \
		$(OUT)/tools/mkdisk VERSION
	$(call msg,DISK,$@ $(DISK_QCOW))
	$(Q)image/mkdisk.sh $@ $(DISK_QCOW) $(IMG)/grub $(MEDIUM_ID) $(OUT)/vmlinuz $(OUT)/initramfs.xz \
		$(OUT)/tools/mkdisk

# PXE assets: the kernel, the initramfs, an iPXE script that boots them (relative to where
# it was fetched from), and iPXE itself for firmware that is not (BIOS undionly.kpxe,
# UEFI ipxe.efi), from image/boot.lock. osctl pxe serve serves them.
PXE := $(OUT)/pxe
# And the system disk's GRUB (disk/), which a machine installing from a PXE boot fetches
# through osctl pxe serve's /install/ as an ISO boot finds it on the ISO.
PXE_DISK := $(PXE)/disk/core.img $(PXE)/disk/boot.img $(PXE)/disk/BOOTX64.EFI $(PXE)/disk/grub.cfg
PXE_FILES := $(PXE)/vmlinuz $(PXE)/initramfs.xz $(PXE)/boot.ipxe $(PXE)/undionly.kpxe $(PXE)/ipxe.efi $(PXE_DISK)
$(PXE)/disk/core.img $(PXE)/disk/boot.img $(PXE)/disk/BOOTX64.EFI: $(PXE)/disk/%: $(GRUB_STAMP)
	$(Q)mkdir -p $(@D) && cp $(IMG)/grub/disk/$* $@ && touch -d @$(SOURCE_DATE_EPOCH) $@
$(PXE)/disk/grub.cfg: image/grubcfg.sh VERSION
	$(Q)mkdir -p $(@D) && image/grubcfg.sh /A basalt.boot=disk " (A)" >$@ && touch -d @$(SOURCE_DATE_EPOCH) $@
$(PXE)/vmlinuz $(PXE)/initramfs.xz: $(PXE)/%: $(OUT)/%
	$(Q)mkdir -p $(@D) && ln -f $< $@
$(PXE)/undionly.kpxe $(PXE)/ipxe.efi: $(PXE)/%: $(BOOT_STAMP)
	$(Q)mkdir -p $(@D) && cp -L $(BOOTPKG)/ipxe/usr/lib/ipxe/$* $@ && touch -d @$(SOURCE_DATE_EPOCH) $@
$(PXE)/boot.ipxe: image/build.mk
	$(Q)mkdir -p $(@D)
	$(Q)printf '#!ipxe\n# Basalt $(VERSION): boots into maintenance mode (osctl pxe serve adds basalt.config=)\nkernel vmlinuz console=tty0 console=ttyS0,115200\ninitrd initramfs.xz\nboot\n' >$@

# Every boot artifact, with its size and in $(OUT)/sha256sums.
ARTIFACTS := $(OUT)/vmlinuz $(OUT)/initramfs.xz $(ISO) $(DISK_RAW) $(DISK_QCOW) $(PXE_FILES)
.PHONY: image iso disk pxe run
iso: $(ISO)
disk: $(DISK_RAW) $(DISK_QCOW)
pxe: $(PXE_FILES)
image: $(ARTIFACTS)
	@cd $(OUT) && sha256sum $(patsubst $(OUT)/%,%,$(ARTIFACTS)) >sha256sums
	@for f in $(ARTIFACTS) $(IMG)/rootfs.sqsh; do \
		printf '  %-28s %10d bytes  sha256 %s\n' "$$f" "$$(stat -c %s $$f)" \
			"$$(sha256sum $$f | cut -c1-16)"; done

# ACCEL=auto uses KVM only if it proves it can run a guest here (image/kvm-probe.sh).
# The node's API is forwarded to 127.0.0.1:$(API_PORT); NET=open lets the guest out.
ACCEL ?= auto
API_PORT ?= 50000
run: image $(IMG)/probe.xz
	image/run-qemu.sh --accel $(ACCEL) --probe $(IMG)/probe.xz --kernel $(OUT)/vmlinuz \
		--initrd $(OUT)/initramfs.xz --api-port $(API_PORT) $(if $(filter open,$(NET)),--net-open)

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs, through apt, every Debian package the build, the image and the tests need.
# Idempotent: only missing packages are installed, and apt-get update runs at most once.
set -euo pipefail

packages=(
	# toolchain: gcc (musl builds use it with the sysroot of mk/sysroot.lock, which holds
	# musl and every library we link), clang for libFuzzer, the protobuf-c code generator
	build-essential clang libclang-rt-14-dev linux-libc-dev protobuf-c-compiler
	# unit tests
	libcmocka-dev
	# image build: kernel module indexes, squashfs, compression, ELF inspection
	kmod squashfs-tools xz-utils binutils cpio
	# boot media: the ISO (xorriso) and the FAT of its UEFI boot image (dosfstools, mtools);
	# GRUB itself comes from pinned packages (image/boot.lock)
	xorriso mtools dosfstools
	# the disk image's qcow2 (qemu-img); the tests read its partition table with an
	# independent tool (sfdisk) and look into its filesystems (xfsprogs)
	qemu-utils fdisk xfsprogs
	# running and testing the image and the supervisor
	qemu-system-x86 util-linux iproute2 procps jq openssl curl
	# UEFI firmware for QEMU (OVMF) and the PXE ROMs of its NICs (iPXE)
	ovmf ipxe-qemu
	# real network peers for the namespace tests: a DHCP server (the binary alone: the
	# dnsmasq package would start a host-wide service), and busybox's udhcpc as the network
	# benchmark's reference DHCP client
	dnsmasq-base busybox
	# and the mesh's: the userspace WireGuard (wireguard-go, the UAPI peer of our userspace
	# backend), wg(8), the reference for its keys and its configuration benchmark, and ping
	wireguard-go wireguard-tools iputils-ping
	# and chronyd's libraries (tests/build.mk takes chronyd itself from the chrony .deb: the
	# package would replace the host's time service)
	libedit2 libgnutls30 libnettle8 libseccomp2 libcap2
	# and dockerd's (tests/build.mk takes docker.io's binaries from its .deb, for the Docker
	# provisioner's suite)
	libdevmapper1.02.1
	# reference supervisor for the benchmark (s6-supervise)
	s6
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ "$status" == ii* ]] || missing+=("$p")
done
# The interop test and the API benchmark's reference server run on Node.js with npm
# packages (tests/interop); a machine that has node and npm already keeps its own.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

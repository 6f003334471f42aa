# SPDX-License-Identifier: MIT
# Test programs. Unit tests: host gcc with ASan/UBSan. The link check: static musl, linked
# like the shipped daemons. Helpers for the init integration test.

INIT_SUP_SRCS := init/ctl.c init/supervisor.c init/svc.c init/spec.c init/cgroup.c \
	$(LIB_CORE_SRCS) $(GEN_INIT)
unit_srcs_cmdline := lib/cmdline.c
unit_srcs_kmod := init/kmod.c
unit_srcs_backoff := lib/backoff.c
unit_srcs_ring := lib/ring.c
unit_srcs_frame := lib/frame.c lib/buf.c $(GEN_INIT)
unit_srcs_loop := lib/loop.c
unit_srcs_spec := init/spec.c $(GEN_INIT)
unit_srcs_supervisor := $(INIT_SUP_SRCS) tests/unit/supfix.c
unit_srcs_ctl := $(INIT_SUP_SRCS) tests/unit/supfix.c
unit_srcs_squashfs := init/stage1.c init/modload.c init/coldplug.c init/kmod.c $(LIB_CORE_SRCS)
unit_srcs_coldplug := init/coldplug.c init/kmod.c lib/log.c lib/loop.c

MACHINED_CORE_SRCS := lib/restypes.c machined/core/res.c machined/core/selector.c machined/core/store.c lib/loop.c \
	$(GEN_API)
unit_srcs_store := $(MACHINED_CORE_SRCS)
unit_srcs_runtime := $(MACHINED_CORE_SRCS) machined/core/runtime.c lib/log.c lib/backoff.c
unit_srcs_parse := lib/parse.c
unit_srcs_keyset := lib/keyset.c
unit_srcs_sysdev := netctl/sysdev.c
unit_srcs_dns := netctl/dns.c
unit_srcs_log := lib/log.c
unit_srcs_http := lib/http.c lib/buf.c lib/parse.c lib/loop.c
unit_srcs_l2switch := osctl/cluster/l2switch.c lib/loop.c
unit_srcs_gpt := lib/gpt.c
unit_srcs_fspath := lib/fspath.c
unit_srcs_cloudinit := machined/platform/cloudinit.c $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c $(GEN_API)
unit_srcs_blkprobe := machined/disk/blockdev.c machined/disk/select.c machined/disk/install.c lib/gpt.c lib/spawn.c lib/atomicfile.c \
	lib/parse.c lib/log.c
unit_srcs_mconfig := $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c $(GEN_API)
unit_srcs_cfgstate := machined/ctrl/cfgstate.c lib/atomicfile.c
GRPC_SRCS := lib/grpc.c lib/h2conn.c lib/grpc_server.c lib/grpc_client.c lib/tls.c lib/pki.c \
	lib/rng.c lib/buf.c lib/loop.c lib/log.c
unit_srcs_grpc := $(GRPC_SRCS)
unit_srcs_tls := lib/tls.c lib/pki.c lib/rng.c
# A watcher is dropped 16 KiB behind here, so test_ctl can overflow one in a few requests.
$(OUT)/host/init/ctl.o $(OUT)/host/tests/unit/test_ctl.o: HOST_CFLAGS += -DCTL_MAX_QUEUED=16384u
unit_srcs_apiipc := machined/api/apiipc.c lib/buf.c lib/loop.c lib/log.c
unit_srcs_sandbox := machined/api/sandbox.c
unit_srcs_apidef := lib/apidef.c lib/restypes.c $(GEN_API)
unit_srcs_ipcfg := netctl/ipcfg.c lib/parse.c
unit_srcs_rtnl := netctl/rtnl.c netctl/nlreq.c netctl/link.c $(wildcard netctl/link_*.c)
unit_srcs_dhcp4 := netctl/dhcp4.c lib/parse.c
unit_srcs_sntp := netctl/sntp.c
unit_srcs_dhcp6 := netctl/dhcp6.c lib/parse.c
unit_srcs_discovery := lib/discovery.c lib/grpc.c lib/buf.c $(OUT)/gen/api/discovery.pb-c.c
unit_srcs_affiliate := lib/affiliate.c lib/wgkey.c lib/rng.c $(OUT)/gen/api/affiliate.pb-c.c
unit_srcs_wguapi := netctl/wg.c netctl/wg_uapi.c
unit_srcs_wggenl := netctl/wg.c netctl/wg_genl.c
unit_srcs_netspec := machined/ctrl/netspec.c $(MACHINED_CORE_SRCS) machined/core/runtime.c lib/log.c lib/backoff.c

UNIT_TESTS := cmdline kmod backoff ring frame loop spec supervisor ctl squashfs coldplug store \
	parse mconfig cfgstate runtime grpc apiipc sandbox memcpy tls apidef ipcfg rtnl dhcp4 netspec sntp dhcp6 keyset sysdev dns log http gpt blkprobe fspath cloudinit l2switch discovery affiliate wguapi wggenl
UNIT_BINS := $(patsubst %,$(OUT)/host/tests/unit/test_%,$(UNIT_TESTS))

define unit_rule
$(OUT)/host/tests/unit/test_$(1): $(call host_objs,tests/unit/test_$(1).c $(unit_srcs_$(1)) $(HOST_COMPAT_SRCS))
	$$(call msg,HOSTLD,$$@)
	$$(Q)$$(HOST_CC) $$(HOST_LDFLAGS) -o $$@ $$^ $(HOST_LIBS) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

LINKCHECK := $(OUT)/bin/linkcheck
$(LINKCHECK): $(call musl_objs,tests/link/linkcheck.c $(LIB_COMPAT_SRCS) $(GEN_INIT))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) $(MUSL_MAP) -o $@ $^ $(A_PROTOBUF) $(A_MBEDTLS) $(A_NGHTTP2) $(A_FYAML) $(A_NL)

TEST_BINS := $(UNIT_BINS) $(LINKCHECK)
.PHONY: test-bins
test-bins: $(TEST_BINS)

# Helpers for tests/init: the control-socket client and services with known behaviour.
$(OUT)/host/bin/initctl: $(call host_objs,tests/init/initctl.c machined/ctrl/initclient.c $(LIB_CORE_SRCS) $(GEN_INIT) \
		$(HOST_COMPAT_SRCS))
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^ $(A_PROTOBUF)

$(OUT)/host/bin/svchelper: tests/init/svchelper.c | $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=c17 -D_GNU_SOURCE -O2 $(WARN) -o $@ $<

# The hostile clients of tests/abuse, optimised (they must outpace the server).
$(OUT)/host/bin/abuse: tests/abuse/abuse.c $(GRPC_SRCS) lib/atomicfile.c $(GEN_API) $(HOST_COMPAT_SRCS) \
		$(SYSROOT_LIBS)/.stamp \
		| $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=c17 -D_GNU_SOURCE -O2 -I. -I$(OUT)/gen $(HOST_LIB_CFLAGS) -o $@ \
		$(filter %.c,$^) $(HOST_LIBS)

TEST_BINS += $(OUT)/host/bin/initctl $(OUT)/host/bin/svchelper $(OUT)/host/bin/abuse
test-bins: $(TEST_BINS)

# libFuzzer targets (clang, ASan+UBSan): one per parser of outside input.
fuzz_srcs_cmdline := lib/cmdline.c
fuzz_srcs_kmod := init/kmod.c
fuzz_srcs_ctl := init/spec.c lib/frame.c lib/buf.c $(GEN_INIT)
fuzz_srcs_squashfs := init/stage1.c init/modload.c init/coldplug.c init/kmod.c $(LIB_CORE_SRCS)
fuzz_srcs_mconfig := $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c $(GEN_API)
fuzz_srcs_grpc := $(GRPC_SRCS) lib/apidef.c $(GEN_API)
fuzz_srcs_apiipc := machined/api/apiipc.c lib/buf.c lib/loop.c lib/log.c
fuzz_srcs_kmsg := machined/api/kmsg.c
fuzz_srcs_mountinfo := lib/mountinfo.c
fuzz_srcs_power := init/power.c lib/log.c lib/loop.c
fuzz_srcs_nodes := lib/apidef.c $(GEN_API)
fuzz_srcs_clientcfg := osctl/clientcfg.c osctl/rpc.c osctl/output.c $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c $(GEN_API)
# (cmd_get.c and cmd_node.c are included by the target, to reach their static reply decoders)
fuzz_srcs_osctl := osctl/gen.c osctl/clientcfg.c osctl/rpc.c osctl/opts.c osctl/output.c $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c \
	$(GEN_API)
fuzz_srcs_grpcclient := $(GRPC_SRCS)
fuzz_srcs_tlssession := $(GRPC_SRCS)
fuzz_srcs_csr := lib/pki.c lib/rng.c
$(OUT)/fuzz/tests/fuzz/fuzz_osctl.o: FUZZ_CFLAGS += -DBASALT_VERSION='"$(VERSION)"'
fuzz_srcs_selector := machined/core/selector.c machined/core/res.c lib/restypes.c $(GEN_API)
fuzz_srcs_modalias := init/kmod.c
fuzz_srcs_cfgstate := machined/ctrl/cfgstate.c lib/atomicfile.c
# (its own supervisor stubs: init/supervisor.c would fork and exec the fuzzed service sets)
fuzz_srcs_ctlconn := init/ctl.c init/spec.c $(LIB_CORE_SRCS) $(GEN_INIT)
fuzz_srcs_initclient := machined/ctrl/initclient.c $(LIB_CORE_SRCS) $(GEN_INIT)
# (apid.c is included by the target, to reach its static merge of forwarded replies)
fuzz_srcs_apidmerge := $(GRPC_SRCS) lib/apidef.c machined/api/apiipc.c machined/api/sandbox.c $(GEN_API)
fuzz_srcs_rtnl := netctl/rtnl.c netctl/nlreq.c
fuzz_srcs_ipcfg := netctl/ipcfg.c lib/parse.c
fuzz_srcs_dhcp4 := netctl/dhcp4.c lib/parse.c
fuzz_srcs_sntp := netctl/sntp.c
fuzz_srcs_dns := netctl/dns.c
fuzz_srcs_dhcp6 := netctl/dhcp6.c lib/parse.c
fuzz_srcs_http := lib/http.c lib/buf.c lib/parse.c lib/loop.c
fuzz_srcs_gpt := lib/gpt.c
fuzz_srcs_fspath := lib/fspath.c
fuzz_srcs_cloudinit := machined/platform/cloudinit.c $(LIB_FULL_SRCS) lib/buf.c lib/loop.c lib/log.c $(GEN_API)
fuzz_srcs_configdrive := $(fuzz_srcs_cloudinit)
fuzz_srcs_imds := $(fuzz_srcs_cloudinit)
fuzz_srcs_l2switch := osctl/cluster/l2switch.c lib/loop.c
fuzz_srcs_blkprobe := machined/disk/blockdev.c lib/gpt.c lib/spawn.c lib/atomicfile.c
fuzz_srcs_pxe := osctl/pxe.c osctl/opts.c lib/http.c lib/buf.c lib/parse.c lib/loop.c lib/spawn.c $(GEN_API)
fuzz_srcs_discovery := lib/discovery.c lib/grpc.c lib/buf.c $(OUT)/gen/api/discovery.pb-c.c
fuzz_srcs_affiliate := lib/affiliate.c lib/wgkey.c lib/rng.c $(OUT)/gen/api/affiliate.pb-c.c
fuzz_srcs_wguapi := netctl/wg.c netctl/wg_uapi.c
fuzz_srcs_wggenl := netctl/wg.c netctl/wg_genl.c
FUZZ_TARGETS := cmdline kmod ctl squashfs mconfig grpc apiipc kmsg mountinfo power nodes clientcfg osctl \
	grpcclient selector modalias cfgstate ctlconn initclient apidmerge tlssession csr rtnl ipcfg dhcp4 sntp dhcp6 dns http pxe gpt blkprobe fspath cloudinit configdrive imds l2switch discovery affiliate wguapi wggenl
FUZZ_BINS := $(patsubst %,$(OUT)/fuzz/bin/fuzz_%,$(FUZZ_TARGETS))

define fuzz_rule
$(OUT)/fuzz/bin/fuzz_$(1): $(call fuzz_objs,tests/fuzz/fuzz_$(1).c $(fuzz_srcs_$(1)) $(HOST_COMPAT_SRCS))
	$$(call msg,FUZZLD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$(HOST_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

TEST_BINS += $(FUZZ_BINS)
test-bins: $(TEST_BINS)

# The interop test's client and the API benchmark's reference server: @grpc/grpc-js from
# the npm registry, installed before the suites run (they have no network of their own).
NPM_STAMP := tests/interop/node_modules/.basalt-stamp
$(NPM_STAMP): tests/interop/package-lock.json | $(DEPS_STAMP)
	$(call msg,NPM,tests/interop)
	$(Q)cd tests/interop && npm ci --no-audit --no-fund --ignore-scripts >/dev/null
	$(Q)touch $@

# Tiers. Each runs tests/run.sh: two suites at a time, each isolated, planned and timed.
#   make check     unit, layout, link, short fuzzing and the host suites (minutes)
#   make test      what CI runs: everything a change could break, one real case of every
#                  capability (QEMU boots, reproducibility), fuzzing time-boxed per target
#   make test-e2e  the long matrix: repeated boots, KVM where possible, long fuzzing, and
#                  make test on a fresh Debian 12 minbase (make test-fresh alone)
#   make fuzz      fuzzing only, FUZZ_SECONDS per target with a random seed
CHECK_SUITES ?= runner layout unit link inputs fuzz init machined api api-renew files interop abuse discovery platform platform-qemu platform-aws
TEST_SUITES ?= runner layout unit link inputs fuzz init machined api api-renew files interop abuse image locks repro vm vm-cad \
	vm-corrupt vm-net vm-links vm-time vm-iso vm-iso-uefi vm-disk vm-disk-uefi vm-install vm-fwcfg vm-nocloud vm-configdrive vm-pxe vm-pxe-uefi vm-pxe-install net-dhcp net-time net-try net-bridge net-wg net-wg-config discovery platform platform-qemu platform-aws cluster-docker cluster-qemu
E2E_SUITES ?= vm vm vm vm-kvm vm-cad vm-iso vm-iso-uefi vm-iso-usb vm-iso-usb-uefi vm-disk vm-disk-uefi vm-disk-qcow2 vm-install vm-install-uefi vm-fwcfg vm-nocloud vm-configdrive vm-pxe vm-pxe-uefi vm-pxe-install cluster-docker cluster-qemu init init machined machined \
	api api files idle fuzz fresh
# A real NTP server for the time tests: chronyd from the Debian registry's chrony .deb, its
# binary alone (installing the package would replace the host's time service and start a
# daemon that asks public servers). Its libraries come with hack/deps.sh.
CHRONYD := $(OUT)/peers/chronyd
$(CHRONYD): | $(DEPS_STAMP)
	$(call msg,PEER,$@)
	$(Q)rm -rf $(OUT)/peers/chrony && mkdir -p $(OUT)/peers/chrony
	$(Q)cd $(OUT)/peers/chrony && apt-get download -q chrony >/dev/null 2>&1 || \
		{ echo "peers: apt-get download chrony failed (apt-get update, then again)" >&2; exit 1; }
	$(Q)dpkg-deb -x $(OUT)/peers/chrony/chrony_*.deb $(OUT)/peers/chrony/root
	$(Q)cp $(OUT)/peers/chrony/root/usr/sbin/chronyd $@

# A Docker engine for the Docker provisioner's suite: dockerd, the docker client and the
# containerd and runc it runs, from the Debian registry's .debs, the binaries alone
# (installing docker.io would start a host-wide daemon that rewrites the firewall). The
# suite starts it in its own namespace with its own socket, data root and exec root, and
# --iptables=false. Its libraries come with hack/deps.sh.
DOCKERD := $(OUT)/peers/docker/root/usr/sbin/dockerd
$(DOCKERD): | $(DEPS_STAMP)
	$(call msg,PEER,$@)
	$(Q)rm -rf $(OUT)/peers/docker && mkdir -p $(OUT)/peers/docker
	$(Q)cd $(OUT)/peers/docker && apt-get download -q docker.io containerd runc >/dev/null 2>&1 || \
		{ echo "peers: apt-get download docker.io containerd runc failed (apt-get update, then again)" >&2; exit 1; }
	$(Q)for d in $(OUT)/peers/docker/*.deb; do dpkg-deb -x "$$d" $(OUT)/peers/docker/root || exit 1; done
	$(Q)rm -f $(OUT)/peers/docker/*.deb
	$(Q)test -x $@ && touch $@

TEST_DEPS := $(BINS) $(TEST_BINS) $(NPM_STAMP) $(CHRONYD) $(DOCKERD)

.PHONY: check test test-net test-cluster test-e2e test-interop test-fresh fuzz
check: $(TEST_DEPS)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-5} tests/run.sh $(OUT) $(CHECK_SUITES)

test: $(TEST_DEPS) image $(ROOTFS_STAMP)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-20} tests/run.sh $(OUT) $(TEST_SUITES)

# make test-net: the network suites on the host, in namespaces of their own (also part of make test).
test-net: $(TEST_DEPS)
	@tests/run.sh $(OUT) net-dhcp net-time net-try net-bridge net-wg net-wg-config

# make test-cluster: the local cluster suites (also part of make test).
test-cluster: $(TEST_DEPS) image
	@tests/run.sh $(OUT) cluster-docker cluster-qemu

test-e2e: $(TEST_DEPS) image $(IMG)/probe.xz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/run.sh $(OUT) $(E2E_SUITES)

# make test-interop: machined's API called by @grpc/grpc-js (also part of make test).
test-interop: $(TEST_DEPS)
	@tests/run.sh $(OUT) interop

# make test-fresh: make test inside a Debian 12 minbase made by debootstrap, with only git
# and make added (as README promises); reports the time a fresh machine takes.
test-fresh:
	@tests/run.sh $(OUT) fresh

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} FUZZ_SEED=$${FUZZ_SEED:-0} tests/run.sh $(OUT) fuzz

# The store and config benchmark, optimised like the shipped code (no sanitizers).
$(OUT)/bench/storebench: tests/bench/storebench.c machined/core/store.c machined/core/res.c machined/core/selector.c \
		$(LIB_FULL_SRCS) lib/loop.c lib/buf.c lib/log.c $(GEN_API) $(HOST_COMPAT_SRCS) $(SYSROOT_LIBS)/.stamp \
		| $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=c17 -D_GNU_SOURCE -O2 -I. -I$(OUT)/gen $(HOST_LIB_CFLAGS) -o $@ $(filter %.c,$^) $(HOST_LIBS)

# The API benchmark's load generator (optimised like the shipped code).
$(OUT)/bench/grpcbench: tests/bench/grpcbench.c $(GRPC_SRCS) lib/atomicfile.c $(HOST_COMPAT_SRCS) \
		$(SYSROOT_LIBS)/.stamp | $(DEPS_STAMP)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) -std=c17 -D_GNU_SOURCE -O2 -I. -I$(OUT)/gen $(HOST_LIB_CFLAGS) -o $@ $(filter %.c,$^) $(HOST_LIBS)

.PHONY: bench bench-skeleton bench-machined bench-api bench-net bench-boot bench-cluster
bench: bench-skeleton bench-machined bench-api bench-net bench-boot bench-cluster
# Each in namespaces of its own, as the test suites run (tests/isolate.sh).
bench-api: $(TEST_DEPS) $(OUT)/bench/grpcbench
	tests/isolate.sh tests/bench/api.sh $(OUT)
bench-skeleton: $(BINS) $(TEST_BINS) image $(IMG)/rootfs-min.sqsh $(IMG)/probe.xz
	tests/isolate.sh tests/bench/skeleton.sh $(OUT)
bench-net: $(BINS)
	tests/isolate.sh tests/bench/net.sh $(OUT)
bench-boot: $(BINS) image $(IMG)/probe.xz
	tests/isolate.sh tests/bench/boot.sh $(OUT)
bench-cluster: $(BINS) $(DOCKERD) image disk
	tests/isolate.sh tests/bench/cluster.sh $(OUT)
bench-machined: $(BINS) $(TEST_BINS) $(OUT)/bench/storebench $(ROOTFS_STAMP)
	tests/isolate.sh tests/bench/machined.sh $(OUT)

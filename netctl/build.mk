# SPDX-License-Identifier: MIT
# netctl's debug CLI (netctl/cli/netctl.c), static musl like the daemons, for developers:
# never in the image.
NETCTL_CLI_SRCS := netctl/cli/netctl.c netctl/cli/wg.c netctl/rtnl.c netctl/nlreq.c netctl/dhcp4.c netctl/dhcp4sock.c \
	netctl/wg.c netctl/wg_uapi.c netctl/wg_genl.c lib/parse.c lib/wgkey.c lib/rng.c
$(OUT)/bin/netctl: $(call musl_objs,$(NETCTL_CLI_SRCS) $(LIB_COMPAT_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^ $(A_MBEDTLS)

BINS += $(OUT)/bin/netctl

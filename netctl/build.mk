# SPDX-License-Identifier: MIT
# netctl's debug CLI (netctl/cli/netctl.c), static musl like the daemons, for developers:
# never in the image.
NETCTL_CLI_SRCS := netctl/cli/netctl.c netctl/rtnl.c netctl/nlreq.c netctl/dhcp4.c netctl/dhcp4sock.c lib/parse.c
$(OUT)/bin/netctl: $(call musl_objs,$(NETCTL_CLI_SRCS) $(LIB_COMPAT_SRCS))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^

BINS += $(OUT)/bin/netctl

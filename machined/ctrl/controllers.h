/* SPDX-License-Identifier: MIT */
/* machined's controllers besides the config: registration and the state they share. */
#ifndef BASALT_CONTROLLERS_H
#define BASALT_CONTROLLERS_H

#include <stdbool.h>

#include "api/config.pb-c.h"
#include "machined/core/runtime.h"
#include "machined/ctrl/ctrl.h"

/* MachineStatusController: runtime/MachineStatus/machine from config and service state. */
struct machine_status {
	struct rt_ctrl *ctrl;
	const char *ending;   /* NULL, "rebooting" or "shutting-down" */
};
extern const struct ctrl_def ctrl_machine_status;
/* The machine is going down: the stage becomes rebooting (reboot) or shutting-down. */
void machine_status_ending(struct machine_status *m, bool reboot);

/* ServiceSpecController: runtime/ServiceSpec/<id>, what init should run. */
struct service_specs {
	struct rt_ctrl *ctrl;
	char **self_argv;               /* machined's own command line */
	const char *init_socket;
	const char *containerd;
	const char *containerd_config;
	const char *root;               /* where the image's files are ("" for /) */
};
extern const struct ctrl_def ctrl_service_specs;

/* VersionController: runtime/Version/version. */
extern const struct ctrl_def ctrl_version;

/* HostnameConfigController: network/HostnameSpec/hostname from machine.network.hostname. */
extern const struct ctrl_def ctrl_hostname_config;
/* HostnameApplyController: sets the kernel's name; network/HostnameStatus/hostname. */
extern const struct ctrl_def ctrl_hostname_apply;

/* LinkStatusController, AddressStatusController: network/LinkStatus and AddressStatus
 * from rtnetlink, followed through its multicast groups. */
extern const struct ctrl_def ctrl_link_status;
extern const struct ctrl_def ctrl_address_status;
/* RouteStatusController: network/RouteStatus from rtnetlink, kicked by the same socket. */
extern const struct ctrl_def ctrl_route_status;
/* NodeAddressController: network/NodeAddress (current, default, routed, accumulative). */
extern const struct ctrl_def ctrl_node_address;

/* The network specs' layers and the controllers that apply them (netctl/rtnl.c). */
extern const struct ctrl_def ctrl_network_cmdline;
extern const struct ctrl_def ctrl_network_config;
extern const struct ctrl_def ctrl_link_spec;
extern const struct ctrl_def ctrl_address_spec;
extern const struct ctrl_def ctrl_route_spec;
extern const struct ctrl_def ctrl_wireguard;
/* ResolverController, TimeServerController: the layers' resolvers and time servers merged
 * (ResolverStatus, TimeServerStatus; resolv.conf). */
extern const struct ctrl_def ctrl_resolvers;
extern const struct ctrl_def ctrl_timeservers;
/* TimeSyncController: an SNTP client for TimeServerStatus's servers; network/TimeStatus. */
extern const struct ctrl_def ctrl_timesync;
/* HostsController: the hosts file (/etc/hosts) from the name and extraHostEntries. */
extern const struct ctrl_def ctrl_hosts;
/* DHCP4Controller: the dhcp4 layer, a DHCPv4 client per link that wants one (netctl/dhcp4.c). */
extern const struct ctrl_def ctrl_dhcp4;
/* DHCP6Controller: the dhcp6 layer, a DHCPv6 client per link of a dhcp6 OperatorSpec (netctl/dhcp6.c). */
extern const struct ctrl_def ctrl_dhcp6;

/* DiskController: block/Disk from sysfs (machined/disk/). */
extern const struct ctrl_def ctrl_disks;
/* FilesController: machine.files under /var; runtime/FileStatus. */
extern const struct ctrl_def ctrl_files;
/* VolumeController: block/Volume (the system disk's partitions) and block/MountStatus. */
extern const struct ctrl_def ctrl_volumes;
/* PlatformMetadataController: runtime/PlatformMetadata/platform from what machined's
 * platform (machined/platform/) reported, handed over by main.c. */
struct platform_status {
	struct rt_ctrl *ctrl, *network_ctrl, *cmdline_ctrl;  /* kicked when it changes */
	bool known;
	char platform[16], hostname[64], instance_id[128], instance_type[64], region[64], zone[64];
	char external[4][46];   /* the platform's external addresses (PLATFORM_EXTERNAL_MAX) */
	unsigned n_external;
	uint8_t *network;       /* the platform's network (a packed basalt.config.Network), or NULL */
	size_t network_len;
};
extern const struct ctrl_def ctrl_platform_metadata;
/* PlatformNetworkController: the platform layer of the network specs from the network the
 * platform describes (NoCloud's network-config). */
extern const struct ctrl_def ctrl_platform_network;
/* The platform's network, unpacked (free with protobuf_c_message_free_unpacked), or NULL. */
Basalt__Config__Network *platform_status_network(const struct platform_status *ps);
/* A platform reported its metadata: published at the next run. */
void platform_status_set(struct platform_status *ps);
/* InstallController: machine.install onto a disk from the ISO; runtime/InstallStatus. */
extern const struct ctrl_def ctrl_install;

#endif

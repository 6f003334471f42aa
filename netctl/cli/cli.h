/* SPDX-License-Identifier: MIT */
/* netctl's subcommands kept in files of their own. */
#ifndef BASALT_NETCTL_CLI_H
#define BASALT_NETCTL_CLI_H

/* netctl wg ...: argv after "wg"; the exit status. */
int cli_wg(int argc, char **argv);

#endif

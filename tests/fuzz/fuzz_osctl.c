/* SPDX-License-Identifier: MIT */
/*
 * osctl's reading of what a node sends back (osctl/cmd_get.c, cmd_node.c, cmd_files.c), with no network: the first
 * byte picks the decoder and output format (a listed resource as a table, YAML or JSON, a
 * watch event as a table or JSON, a Logs/Dmesg/Read data message, a List FileInfo), the rest is the reply
 * message. A node's spec_yaml goes through the same YAML guards as a config. Output is
 * thrown away.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "osctl/cmd_get.c"
#include "osctl/cmd_node.c"
#include "osctl/cmd_files.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum outfmt fmts[] = { OUT_TABLE, OUT_YAML, OUT_JSON };
	struct osc o = { 0 };
	struct getctx g = { .o = &o };
	struct osc_datactx dc = { .o = &o };
	struct lsctx ls = { .o = &o };
	unsigned pick;

	if (size < 1)
		return 0;
	pick = data[0] % 7;
	snprintf(o.endpoint, sizeof(o.endpoint), "10.0.0.1:50000");
	g.fmt = fmts[pick % 3];
	/* Half the inputs print the spec columns of a type (the YAML of the reply parsed again). */
	if (data[0] & 0x80) {
		g.type = RES(SERVICE);
		g.ncols = 3;
	}
	table_init(&g.t, 5 + g.ncols);
	table_add(&g.t, "NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "STATE", "HEALTHY", "RESTARTS");
	if (pick < 3) {
		on_list_msg(&g, data + 1, size - 1);
	} else if (pick < 5) {
		g.watch = true;
		on_watch_msg(&g, data + 1, size - 1);
	} else if (pick == 5) {
		osc_on_data(&dc, data + 1, size - 1);
	} else {
		/* A List (files) entry, in the long format for half the inputs. */
		ls.longfmt = data[0] & 0x80;
		table_init(&ls.t, ls.longfmt ? 7 : 2);
		on_info(&ls, data + 1, size - 1);
		sort_rows(&ls.t);
		table_print(&ls.t);
		table_fini(&ls.t);
	}
	if (g.fmt == OUT_TABLE)
		table_print(&g.t);
	table_fini(&g.t);
	return 0;
}

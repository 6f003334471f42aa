/* SPDX-License-Identifier: MIT */
#include "init/modload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "init/coldplug.h"
#include "lib/log.h"
#include "lib/loop.h"

int modload_dir(char *out, size_t len)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	snprintf(out, len, "/lib/modules/%s", u.release);
	return 0;
}

static void load_list(struct kmod_db *db, const char *list_file, unsigned *ok, unsigned *bad)
{
	char line[256], err[512];
	FILE *f = fopen(list_file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *name = line + strspn(line, " \t");

		name[strcspn(name, " \t\r\n#")] = '\0';
		if (!*name)
			continue;
		uint64_t t = mono_ms();

		if (kmod_load(db, name, err, sizeof(err)) == 0) {
			(*ok)++;
			log_debug("modules: %s loaded in %llu ms", name, (unsigned long long)(mono_ms() - t));
		} else {
			(*bad)++;
			log_warnx("modules: %s", err);
		}
	}
	fclose(f);
}

void modload_boot(const char *stage, const char *list_file)
{
	struct kmod_db db;
	struct coldplug_stats st;
	char dir[128], err[512];
	unsigned ok = 0, bad = 0;
	uint64_t t0 = mono_ms();

	kmod_db_init(&db);
	if (modload_dir(dir, sizeof(dir)) < 0 || kmod_db_load(&db, dir, err, sizeof(err)) < 0) {
		log_warnx("%s: no kernel modules: %s", stage, err);
		kmod_db_fini(&db);
		return;
	}
	load_list(&db, list_file, &ok, &bad);
	if (coldplug_run(&db, "/sys", &st) < 0)
		log_warn("%s: coldplug /sys/bus", stage);
	log_info("%s: loaded %u listed modules (%u failed), coldplug loaded %u for %u devices in %llu ms",
		 stage, ok, bad, st.loaded, st.devices, (unsigned long long)(mono_ms() - t0));
	kmod_db_fini(&db);
}

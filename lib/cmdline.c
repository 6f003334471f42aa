/* SPDX-License-Identifier: MIT */
#include "lib/cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMDLINE_MAX 4096

static const char *const platform_names[] = {
	[PLATFORM_UNSET] = "",          [PLATFORM_METAL] = "metal", [PLATFORM_NOCLOUD] = "nocloud",
	[PLATFORM_OPENSTACK] = "openstack", [PLATFORM_QEMU] = "qemu", [PLATFORM_AWS] = "aws",
	[PLATFORM_CONTAINER] = "container",
};

const char *platform_name(enum platform p)
{
	if ((size_t)p >= sizeof(platform_names) / sizeof(platform_names[0]))
		return "";
	return platform_names[p];
}

struct parse {
	struct cmdline *out;
	cmdline_report_fn *report;
	void *arg;
};

static void report(struct parse *ps, const char *key, const char *value, const char *msg)
{
	if (ps->report)
		ps->report(ps->arg, key, value, msg);
}

static bool url_ok(const char *v)
{
	const char *host;

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return false;
	return *host != '\0' && *host != '/';
}

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int apply_config(struct parse *ps, const char *key, const char *v)
{
	if (!v || !url_ok(v)) {
		report(ps, key, v, "not an http:// or https:// URL with a host");
		return 0;
	}
	return set_string(&ps->out->config_url, v);
}

static int apply_install_source(struct parse *ps, const char *key, const char *v)
{
	if (!v || strncmp(v, "http://", 7) != 0 || !url_ok(v) || v[strlen(v) - 1] != '/') {
		report(ps, key, v, "not an http:// URL with a host, ending in /");
		return 0;
	}
	return set_string(&ps->out->install_source, v);
}

static int apply_platform(struct parse *ps, const char *key, const char *v)
{
	for (size_t i = PLATFORM_METAL; i < sizeof(platform_names) / sizeof(platform_names[0]);
	     i++) {
		if (v && strcmp(v, platform_names[i]) == 0) {
			ps->out->platform = (enum platform)i;
			return 0;
		}
	}
	report(ps, key, v, "unknown platform (expected metal, nocloud, openstack, qemu, aws or container)");
	return 0;
}

static void set_bool(struct parse *ps, const char *key, const char *v, bool *out)
{
	if (!v || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "0") == 0)
		*out = false;
	else
		report(ps, key, v, "expected 0 or 1");
}

static int apply_debug(struct parse *ps, const char *key, const char *v)
{
	set_bool(ps, key, v, &ps->out->debug);
	return 0;
}

static int apply_maintenance(struct parse *ps, const char *key, const char *v)
{
	set_bool(ps, key, v, &ps->out->maintenance);
	return 0;
}

static int apply_boot(struct parse *ps, const char *key, const char *v)
{
	if (v && (strcmp(v, "disk") == 0 || strcmp(v, "media") == 0))
		ps->out->from_disk = v[0] == 'd';
	else
		report(ps, key, v, "expected disk or media");
	return 0;
}

static int apply_ip(struct parse *ps, const char *key, const char *v)
{
	if (!v || !*v) {
		report(ps, key, v, "empty value");
		return 0;
	}
	return set_string(&ps->out->ip, v);
}

static const struct {
	const char *key;
	int (*apply)(struct parse *ps, const char *key, const char *value);
} keys[] = {
	{ "basalt.config", apply_config },
	{ "basalt.install.source", apply_install_source },
	{ "basalt.platform", apply_platform },
	{ "basalt.debug", apply_debug },
	{ "basalt.maintenance", apply_maintenance },
	{ "basalt.boot", apply_boot },
	{ "ip", apply_ip },
};

/* One token "key" or "key=value"; value may have been quoted. */
static int apply_token(struct parse *ps, char *tok)
{
	char *eq = strchr(tok, '=');
	const char *value = NULL;

	if (eq) {
		*eq = '\0';
		value = eq + 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(tok, keys[i].key) == 0)
			return keys[i].apply(ps, tok, value);
	}
	if (strncmp(tok, "basalt.", 7) == 0)
		report(ps, tok, value, "unknown key, ignored");
	return 0;
}

/*
 * Splits like the kernel does: whitespace separates tokens, double quotes group (and are
 * removed), "--" ends the kernel's part of the line.
 */
int cmdline_parse(const char *text, struct cmdline *out, cmdline_report_fn *fn, void *arg)
{
	struct parse ps = { .out = out, .report = fn, .arg = arg };
	char tok[CMDLINE_MAX];
	const char *p = text;
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (*p && err == 0) {
		size_t n = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '"')
				quoted = !quoted;
			else if (n < sizeof(tok) - 1)
				tok[n++] = *p;
			p++;
		}
		tok[n] = '\0';
		if (strcmp(tok, "--") == 0)
			break;
		err = apply_token(&ps, tok);
	}
	if (err < 0)
		cmdline_fini(out);
	return err;
}

int cmdline_read(const char *path, struct cmdline *out, cmdline_report_fn *fn, void *arg)
{
	char text[CMDLINE_MAX];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -errno;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	return cmdline_parse(text, out, fn, arg);
}

void cmdline_fini(struct cmdline *c)
{
	free(c->config_url);
	free(c->install_source);
	free(c->ip);
	memset(c, 0, sizeof(*c));
}

/* SPDX-License-Identifier: MIT */
#include "machined/platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

/* Every platform, in the order they are detected; metal is the fallback. */
static const struct platform_ops *const platforms[] = { &platform_container, &platform_nocloud, &platform_openstack, &platform_aws,
									&platform_qemu, &platform_metal };

/* basalt.platform=; else metal for a config URL; else the first detected; else metal. NULL
 * (said) for a platform this release does not have. */
static const struct platform_ops *select_ops(const struct platform_env *env)
{
	enum platform want = env->cmdline ? env->cmdline->platform : PLATFORM_UNSET;

	if (want != PLATFORM_UNSET) {
		for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
			if (strcmp(platforms[i]->name, platform_name(want)) == 0)
				return platforms[i];
		log_console("platform %s (basalt.platform=%s): not supported by this release yet; "
			    "apply a config through the API", platform_name(want), platform_name(want));
		return NULL;
	}
	/* A config URL on the command line is metal's, wherever the machine runs. */
	if (env->cmdline && env->cmdline->config_url)
		return &platform_metal;
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (platforms[i]->detect && platforms[i]->detect(env))
			return platforms[i];
	return &platform_metal;
}

void platform_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void platform_dmi_uuid(const struct platform_env *env, char *out, size_t len)
{
	if (platform_sysfs_line(env, "class/dmi/id/product_uuid", out, len) < 0)
		out[0] = '\0';
	for (char *c = out; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
}

/* The metadata every platform has: its name and the DMI UUID; with describe, the rest. */
static void base_metadata(const struct platform_env *env, const struct platform_ops *ops, bool describe)
{
	struct platform_metadata md = { 0 };

	if (!env->on_metadata)
		return;
	snprintf(md.platform, sizeof(md.platform), "%s", ops->name);
	if (ops->own_identity)
		describe = true;
	else
		platform_dmi_uuid(env, md.instance_id, sizeof(md.instance_id));
	if (describe && ops->describe)
		ops->describe(env, &md);
	env->on_metadata(env->arg, &md);
	if (md.network)
		protobuf_c_message_free_unpacked((ProtobufCMessage *)&md.network->base, NULL);
}

void platform_report(struct platform_ctx *p, const struct platform_env *env)
{
	const struct platform_ops *ops = select_ops(env);

	memset(p, 0, sizeof(*p));
	if (!ops)
		return;
	base_metadata(env, ops, !ops->report_by_start);
	if (!ops->report_by_start)
		return;
	p->ops = ops;
	p->env = *env;
	p->report_only = true;
	if (ops->start(p, p->error, sizeof(p->error)) < 0)
		log_console("platform %s: %s", ops->name, p->error);
}

int platform_start(struct platform_ctx *p, const struct platform_env *env)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->env = *env;
	if (!(p->ops = select_ops(env)))
		return 0;
	base_metadata(env, p->ops, false);
	r = p->ops->start(p, p->error, sizeof(p->error));
	if (r < 0)
		log_console("platform %s: %s", p->ops->name, p->error);
	return r;
}

void platform_metadata(struct platform_ctx *p, const struct platform_metadata *md)
{
	if (p->env.on_metadata)
		p->env.on_metadata(p->env.arg, md);
}

int platform_looker_start(struct platform_ctx *p, loop_timer_fn *look, const void *data, char *err, size_t errlen)
{
	struct platform_looker *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->p = p;
	l->data = data;
	p->state = l;
	loop_timer_init(&l->timer, look, l);
	look(l);
	return 1;
}

void platform_looker_stop(struct platform_ctx *p)
{
	struct platform_looker *l = p->state;

	if (!l)
		return;
	loop_timer_cancel(p->env.loop, &l->timer);
	free(l);
	p->state = NULL;
}

void platform_stop(struct platform_ctx *p)
{
	if (p->ops && p->ops->stop)
		p->ops->stop(p);
	p->ops = NULL;
}

/* --- what the machine says about itself --- */

static int read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(out, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return n ? 0 : -1;
}

int platform_sysfs_line(const struct platform_env *env, const char *path, char *out, size_t len)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", env->sysfs, path);
	return read_line(full, out, len);
}

/* The first physical Ethernet link by name: a device behind it, ARP type 1. */
static int first_mac(const char *sysfs, char *out, size_t len)
{
	char dir[256], path[600], type[16], best[256] = "";
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/net", sysfs);
	if (!(d = opendir(dir)))
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 64)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", dir, e->d_name);
		if (access(path, F_OK) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", dir, e->d_name);
		if (read_line(path, type, sizeof(type)) < 0 || strcmp(type, "1") != 0)
			continue;
		if (!best[0] || strcmp(e->d_name, best) < 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (!best[0])
		return -1;
	snprintf(path, sizeof(path), "%s/%s/address", dir, best);
	return read_line(path, out, len);
}

/* RFC 3986 unreserved characters stay; ':' too (a MAC reads as one in a path). */
static size_t encode(const char *v, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		bool keep = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			    strchr("-._~:", *c);

		if (n + (keep ? 1 : 3) >= len)
			return (size_t)-1;
		if (keep) {
			out[n++] = (char)*c;
		} else {
			out[n++] = '%';
			out[n++] = hex[*c >> 4];
			out[n++] = hex[*c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

int platform_expand_url(const struct platform_env *env, const char *url, char *out, size_t outlen, char *err,
			size_t errlen)
{
	size_t n = 0;

	for (const char *p = url; *p;) {
		char name[32], val[256], path[512];
		const char *end;
		size_t k;

		if (p[0] != '$' || p[1] != '{') {
			if (n + 1 >= outlen)
				goto long_;
			out[n++] = *p++;
			continue;
		}
		if (!(end = strchr(p + 2, '}')) || (size_t)(end - p - 2) >= sizeof(name)) {
			snprintf(err, errlen, "an unterminated ${ in the URL");
			return -1;
		}
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		val[0] = '\0';
		if (strcmp(name, "mac") == 0) {
			if (first_mac(env->sysfs, val, sizeof(val)) < 0) {
				snprintf(err, errlen, "${mac}: this machine has no physical Ethernet link");
				return -1;
			}
		} else if (strcmp(name, "uuid") == 0 || strcmp(name, "serial") == 0) {
			snprintf(path, sizeof(path), "%s/class/dmi/id/product_%s", env->sysfs, name);
			if (read_line(path, val, sizeof(val)) < 0) {
				snprintf(err, errlen, "${%s}: the machine's DMI data has none (%s)", name, path);
				return -1;
			}
			if (strcmp(name, "uuid") == 0)
				for (char *c = val; *c; c++)
					*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
		} else if (strcmp(name, "hostname") == 0) {
			if (gethostname(val, sizeof(val)) < 0 || !val[0]) {
				snprintf(err, errlen, "${hostname}: the machine has no host name");
				return -1;
			}
		} else {
			snprintf(err, errlen, "${%s}: unknown variable (known: mac, uuid, serial, hostname)", name);
			return -1;
		}
		if ((k = encode(val, out + n, outlen - n)) == (size_t)-1)
			goto long_;
		n += k;
		p = end + 1;
	}
	out[n] = '\0';
	return 0;
long_:
	snprintf(err, errlen, "the URL is longer than %zu bytes once expanded", outlen - 1);
	return -1;
}

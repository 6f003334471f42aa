/* SPDX-License-Identifier: MIT */
/* WireGuard's userspace API as wireguard-go speaks it: sets formatted, gets parsed, a socket served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netctl/wg.h"

static void fill(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	memset(k, v, WG_KEY_LEN);
}

#define K11 "1111111111111111111111111111111111111111111111111111111111111111"
#define K22 "2222222222222222222222222222222222222222222222222222222222222222"
#define K33 "3333333333333333333333333333333333333333333333333333333333333333"
#define KAA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A device with one full peer and one removed: every line the set can carry, in order. */
static void test_format_set(void **state)
{
	static const uint8_t uk[WG_KEY_LEN] = { 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
						0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
						0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };
	struct wg_device d;
	struct wg_peer *p;
	uint8_t k[WG_KEY_LEN];
	char out[4096];
	size_t len = 0;

	(void)state;
	wg_device_init(&d, "bwg0");
	d.flags = WGD_PRIVATE_KEY | WGD_LISTEN_PORT | WGD_FWMARK | WGD_REPLACE_PEERS;
	fill(d.priv, 0x11);
	d.port = 51820;
	d.fwmark = 0x20;
	p = wg_device_add_peer(&d, uk);
	p->flags = WGP_PRESHARED_KEY | WGP_ENDPOINT | WGP_KEEPALIVE | WGP_REPLACE_IPS;
	fill(p->psk, 0xaa);
	p->ep = (struct wg_endpoint){ .family = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .port = 4242 };
	p->keepalive = 25;
	p->ips[p->nips++] = (struct wg_ip){ .family = 4, .a = { 10, 8, 0, 0 }, .cidr = 16 };
	p->ips[p->nips++] = (struct wg_ip){ .family = 6, .a = { 0xfd, [15] = 2 }, .cidr = 128 };
	fill(k, 0x33);
	p = wg_device_add_peer(&d, k);
	p->flags = WGP_REMOVE | WGP_ENDPOINT; /* a removal carries nothing else */
	assert_int_equal(wg_uapi_format_set(&d, out, sizeof(out), &len), 0);
	out[len] = 0;
	assert_int_equal(strlen(out), len);
	assert_string_equal(out, "set=1\nprivate_key=" K11 "\nlisten_port=51820\nfwmark=32\nreplace_peers=true\n"
				 "public_key=" K22 "\npreshared_key=" KAA "\nendpoint=[2001:db8::1]:4242\n"
				 "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
				 "allowed_ip=10.8.0.0/16\nallowed_ip=fd00::2/128\n"
				 "public_key=" K33 "\nremove=true\n\n");
	/* too small a buffer is refused whole, never sent cut */
	assert_int_equal(wg_uapi_format_set(&d, out, 40, &len), -ENOSPC);
	wg_device_fini(&d);
}

/* A get reply as wireguard-go writes it. */
static const char reply[] = "private_key=" K11 "\nlisten_port=51820\nfwmark=32\n"
			    "public_key=" K22 "\npreshared_key=" KAA "\nprotocol_version=1\n"
			    "endpoint=192.0.2.7:51821\nlast_handshake_time_sec=1700000000\n"
			    "last_handshake_time_nsec=5\ntx_bytes=1234\nrx_bytes=99\n"
			    "persistent_keepalive_interval=25\nallowed_ip=10.8.0.0/16\nallowed_ip=fd00::2/128\n"
			    "public_key=" K33 "\nendpoint=[2001:db8::1]:4242\nsome_future_field=x\n"
			    "errno=0\n\n";

static void test_parse_get(void **state)
{
	struct wg_device d;
	char err[256] = "";

	(void)state;
	wg_device_init(&d, "bwg0");
	assert_int_equal(wg_uapi_parse_get(reply, sizeof(reply) - 1, &d, err, sizeof(err)), 0);
	assert_true(d.flags & WGD_PRIVATE_KEY);
	assert_int_equal(d.priv[31], 0x11);
	assert_int_equal(d.port, 51820);
	assert_int_equal(d.fwmark, 32);
	assert_int_equal(d.npeers, 2);
	assert_int_equal(d.peers[0].pub[0], 0x22);
	assert_int_equal(d.peers[0].psk[0], 0xaa);
	assert_int_equal(d.peers[0].ep.family, 4);
	assert_int_equal(d.peers[0].ep.a[3], 7);
	assert_int_equal(d.peers[0].ep.port, 51821);
	assert_int_equal(d.peers[0].handshake_sec, 1700000000);
	assert_int_equal(d.peers[0].handshake_nsec, 5);
	assert_int_equal(d.peers[0].tx, 1234);
	assert_int_equal(d.peers[0].rx, 99);
	assert_int_equal(d.peers[0].keepalive, 25);
	assert_int_equal(d.peers[0].nips, 2);
	assert_int_equal(d.peers[0].ips[0].cidr, 16);
	assert_int_equal(d.peers[0].ips[1].family, 6);
	assert_int_equal(d.peers[0].ips[1].a[15], 2);
	assert_int_equal(d.peers[1].ep.family, 6);
	assert_int_equal(d.peers[1].ep.port, 4242);
	assert_int_equal(d.peers[1].nips, 0);
	wg_device_fini(&d);
}

static void expect_bad(const char *text, int rc, const char *why)
{
	struct wg_device d;
	char err[256] = "";

	wg_device_init(&d, "bwg0");
	assert_int_equal(wg_uapi_parse_get(text, strlen(text), &d, err, sizeof(err)), rc);
	if (!strstr(err, why))
		fail_msg("\"%s\": error \"%s\" does not say \"%s\"", text, err, why);
	wg_device_fini(&d);
}

static void test_parse_refuses(void **state)
{
	static char many[64 * (WG_PEER_IPS_MAX + 2)];
	size_t n;

	(void)state;
	expect_bad("errno=2\n\n", -2, "errno 2");
	expect_bad("listen_port=1\n\n", -EBADMSG, "without errno");
	expect_bad("listen_port=1\n", -EBADMSG, "without errno");
	expect_bad("listen_port=1", -EBADMSG, "no end");
	expect_bad("errno=0\n", -EBADMSG, "no blank line");
	expect_bad("errno=x\n\n", -EBADMSG, "not a number");
	expect_bad("listen_port=65536\nerrno=0\n\n", -EBADMSG, "line 1: bad listen_port");
	expect_bad("private_key=11\nerrno=0\n\n", -EBADMSG, "bad private_key");
	expect_bad("public_key=" K22 "\nendpoint=[192.0.2.1]:5\nerrno=0\n\n", -EBADMSG, "line 2: bad endpoint");
	expect_bad("public_key=" K22 "\nendpoint=192.0.2.1\nerrno=0\n\n", -EBADMSG, "bad endpoint");
	expect_bad("public_key=" K22 "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n", -EBADMSG, "bad allowed_ip");
	expect_bad("public_key=" K22 "\nallowed_ip=10.0.0.0\nerrno=0\n\n", -EBADMSG, "bad allowed_ip");
	expect_bad("public_key=" K22 "\nrx_bytes=18446744073709551616\nerrno=0\n\n", -EBADMSG, "bad rx_bytes");
	expect_bad("nonsense\nerrno=0\n\n", -EBADMSG, "not key=value");
	n = (size_t)snprintf(many, sizeof(many), "public_key=" K22 "\n");
	for (int i = 0; i <= WG_PEER_IPS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "allowed_ip=10.0.%d.%d/32\n", i / 256, i % 256);
	snprintf(many + n, sizeof(many) - n, "errno=0\n\n");
	expect_bad(many, -E2BIG, "over 192 allowed IPs");
}

/* A fake device: a socket under WG_UAPI_DIR whose server records a request and sends a reply. */
static char sockpath[108];

static pid_t serve_once(const char *name, const char *answer, const char *record)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	pid_t pid;

	mkdir(WG_UAPI_DIR, 0755);
	snprintf(sockpath, sizeof(sockpath), "%s/%s.sock", WG_UAPI_DIR, name);
	strcpy(sa.sun_path, sockpath);
	unlink(sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	pid = fork();
	if (pid == 0) {
		char buf[8192];
		size_t n = 0;
		int c = accept(fd, NULL, NULL);
		FILE *f;

		while (n < sizeof(buf) && (n < 2 || buf[n - 1] != '\n' || buf[n - 2] != '\n')) {
			ssize_t r = read(c, buf + n, sizeof(buf) - n);

			if (r <= 0)
				_exit(1);
			n += (size_t)r;
		}
		f = fopen(record, "w");
		fwrite(buf, 1, n, f);
		fclose(f);
		if (write(c, answer, strlen(answer)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd);
	return pid;
}

static void finish(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(sockpath);
}

static void test_socket(void **state)
{
	char name[16], record[64], got[8192] = "", err[256] = "";
	struct wg_counters c = { 0 };
	struct wg_device d;
	struct wg_peer *p;
	uint8_t k[WG_KEY_LEN];
	FILE *f;
	pid_t pid;

	(void)state;
	snprintf(name, sizeof(name), "bu%d", (int)getpid() % 100000);
	snprintf(record, sizeof(record), "/tmp/wguapi-%d", (int)getpid());

	pid = serve_once(name, reply, record);
	wg_device_init(&d, NULL);
	assert_int_equal(wg_userspace.get(name, &d, &c, err, sizeof(err)), 0);
	finish(pid);
	assert_int_equal(d.npeers, 2);
	assert_string_equal(d.name, name);
	f = fopen(record, "r");
	assert_non_null(f);
	assert_true(fread(got, 1, sizeof(got) - 1, f) > 0);
	fclose(f);
	assert_string_equal(got, "get=1\n\n");
	wg_device_fini(&d);

	/* one peer changed: one set naming that peer only */
	pid = serve_once(name, "errno=0\n\n", record);
	wg_device_init(&d, name);
	fill(k, 0x22);
	p = wg_device_add_peer(&d, k);
	p->flags = WGP_UPDATE_ONLY | WGP_ENDPOINT;
	p->ep = (struct wg_endpoint){ .family = 4, .a = { 192, 0, 2, 9 }, .port = 51820 };
	assert_int_equal(wg_userspace.set(&d, &c, err, sizeof(err)), 0);
	finish(pid);
	memset(got, 0, sizeof(got));
	f = fopen(record, "r");
	assert_true(fread(got, 1, sizeof(got) - 1, f) > 0);
	fclose(f);
	assert_string_equal(got, "set=1\npublic_key=" K22 "\nupdate_only=true\nendpoint=192.0.2.9:51820\n\n");
	assert_int_equal(c.gets, 1);
	assert_int_equal(c.sets, 1);
	assert_int_equal(c.messages, 2);

	/* the device refuses: its errno comes back, named */
	pid = serve_once(name, "errno=22\n\n", record);
	assert_int_equal(wg_userspace.set(&d, &c, err, sizeof(err)), -22);
	finish(pid);
	assert_non_null(strstr(err, "errno 22"));

	/* no daemon: the error names its socket; a name with a slash never reaches the filesystem */
	assert_true(wg_userspace.set(&d, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, sockpath));
	assert_non_null(strstr(err, "userspace daemon"));
	strcpy(d.name, "../x");
	assert_int_equal(wg_userspace.set(&d, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an interface name"));
	wg_device_fini(&d);
	unlink(record);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_set),
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

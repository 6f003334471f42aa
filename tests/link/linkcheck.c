/* SPDX-License-Identifier: MIT */
/*
 * Runs inside a static musl binary linked exactly like machined and osctl will be: each
 * Debian static archive does real work, and each fortify shim both passes a good call and
 * aborts a bad one. A broken link or a shim that does not check shows up here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libfyaml.h>
#include <mbedtls/aes.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/version.h>
#include <psa/crypto.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <nghttp2/nghttp2.h>

#include "api/init.pb-c.h"
#include "lib/compat/fortify.h"
#include "lib/compat/isoc23.h"

static int failures, n;

static void tap(int ok, const char *what)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	failures += !ok;
}

static void selftests(void)
{
	static const struct {
		const char *name;
		int (*fn)(int);
	} st[] = {
		{ "mbedtls aes", mbedtls_aes_self_test },
		{ "mbedtls gcm", mbedtls_gcm_self_test },
		{ "mbedtls sha256", mbedtls_sha256_self_test },
		{ "mbedtls sha512", mbedtls_sha512_self_test },
		{ "mbedtls ecp", mbedtls_ecp_self_test },
		{ "mbedtls ctr_drbg", mbedtls_ctr_drbg_self_test },
		{ "mbedtls chacha20-poly1305", mbedtls_chachapoly_self_test },
	};

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		tap(st[i].fn(0) == 0, st[i].name);
}

/* TLS 1.3 does its cryptography through PSA: it starts (entropy, its DRBG) and hashes. */
static void psa_hash(void)
{
	static const unsigned char abc_sha256[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	unsigned char out[32], rnd[16] = { 0 };
	size_t len = 0;

	tap(MBEDTLS_VERSION_MAJOR == 3 && MBEDTLS_VERSION_MINOR == 6, "mbedTLS is 3.6 (" MBEDTLS_VERSION_STRING ")");
	tap(psa_crypto_init() == PSA_SUCCESS && psa_generate_random(rnd, sizeof(rnd)) == PSA_SUCCESS,
	    "PSA crypto starts and generates random bytes");
	tap(psa_hash_compute(PSA_ALG_SHA_256, (const uint8_t *)"abc", 3, out, sizeof(out), &len) == PSA_SUCCESS &&
		    len == 32 && memcmp(out, abc_sha256, 32) == 0,
	    "PSA SHA-256 of \"abc\"");
}

static void protobuf_round_trip(void)
{
	Basalt__Init__Request req = BASALT__INIT__REQUEST__INIT, *back;
	Basalt__Init__RestartService rs = BASALT__INIT__RESTART_SERVICE__INIT;
	uint8_t buf[64];
	size_t len;

	rs.id = "containerd";
	req.id = 99;
	req.op_case = BASALT__INIT__REQUEST__OP_RESTART_SERVICE;
	req.restart_service = &rs;
	len = basalt__init__request__pack(&req, buf);
	back = basalt__init__request__unpack(NULL, len, buf);
	tap(back && back->id == 99 && back->op_case == BASALT__INIT__REQUEST__OP_RESTART_SERVICE &&
		    strcmp(back->restart_service->id, "containerd") == 0,
	    "protobuf-c round trip");
	if (back)
		basalt__init__request__free_unpacked(back, NULL);
}

static void http2_preface(void)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_session *s = NULL;
	const uint8_t *data = NULL;
	ssize_t len = -1, len2 = -1;
	int ok = 0;

	if (nghttp2_session_callbacks_new(&cb) == 0 && nghttp2_session_client_new(&s, cb, NULL) == 0 &&
	    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0) == 0) {
		/* A client connection starts with the 24-byte preface, then a SETTINGS frame. */
		len = nghttp2_session_mem_send(s, &data);
		ok = len == 24 && memcmp(data, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) == 0;
		len2 = nghttp2_session_mem_send(s, &data);
		ok = ok && len2 == 9 && data[3] == NGHTTP2_SETTINGS;
	}
	tap(ok, "nghttp2 client preface and SETTINGS frame");
	nghttp2_session_del(s);
	nghttp2_session_callbacks_del(cb);
}

static void fyaml_parse(void)
{
	static const char doc[] = "machine:\n  network:\n    hostname: node-1\n";
	struct fy_document *fyd = fy_document_build_from_string(NULL, doc, sizeof(doc) - 1);
	char host[32] = "";
	int r = fyd ? fy_document_scanf(fyd, "/machine/network/hostname %31s", host) : 0;

	tap(r == 1 && strcmp(host, "node-1") == 0, "libfyaml parse and path lookup");
	fy_document_destroy(fyd);
}

static void libnl_attrs(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *tb[3];
	int ok = 0;

	if (msg && nla_put_u32(msg, 1, 0xdeadbeef) == 0 && nla_put_string(msg, 2, "wg0") == 0 &&
	    nla_parse(tb, 2, nlmsg_attrdata(nlmsg_hdr(msg), 0), nlmsg_attrlen(nlmsg_hdr(msg), 0),
		      NULL) == 0)
		ok = tb[1] && nla_get_u32(tb[1]) == 0xdeadbeef && tb[2] &&
		     strcmp(nla_get_string(tb[2]), "wg0") == 0;
	tap(ok, "libnl message build and parse");
	nlmsg_free(msg);
}

/* Runs fn in a child; true if it died of SIGABRT (the shim's verdict on an overflow). */
static int aborts(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);  /* the shim's message is expected; keep the TAP clean */
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static char small[8];
static volatile size_t big = 16;

static void bad_memcpy(void)
{
	static char src[16];

	__memcpy_chk(small, src, big, sizeof(small));
}

static void bad_memset(void)
{
	__memset_chk(small, 0, big, sizeof(small));
}

static void bad_snprintf(void)
{
	__snprintf_chk(small, big, 1, sizeof(small), "%s", "x");
}

static void bad_sprintf(void)
{
	__sprintf_chk(small, 1, sizeof(small), "%s", "far too long for eight");
}

static void bad_percent_n(void)
{
	int written;
	char fmt[8] = "ab%n";

	__printf_chk(2, fmt, &written);
}

static void bad_fdelt(void)
{
	__fdelt_chk(FD_SETSIZE + 1);
}

static void bad_bzero(void)
{
	__explicit_bzero_chk(small, big, sizeof(small));
}

/* C23's strtol reads binary; its sscanf refuses %b (musl cannot do it) and reads the rest. */
static void isoc23_shims(void)
{
	char *end = NULL, word[8] = "";
	int a = 0;
	long v;

	v = __isoc23_strtol(" 0b101z", &end, 0);
	tap(v == 5 && *end == 'z', "__isoc23_strtol reads 0b101 with base 0");
	tap(__isoc23_strtol("-0B11", NULL, 2) == -3 && __isoc23_strtol("0x1f", NULL, 0) == 31 &&
		    __isoc23_strtol("017", NULL, 0) == 15 && __isoc23_strtol("0b2", &end, 0) == 0 && *end == 'b',
	    "__isoc23_strtol: sign, hex, octal, and 0b without a binary digit stops at b");
	errno = 0;
	v = __isoc23_strtol("0b1111111111111111111111111111111111111111111111111111111111111111", NULL, 0);
	tap(v == LONG_MAX && errno == ERANGE, "__isoc23_strtol clamps an overflow with ERANGE");
	tap(__isoc23_strtoul("0b11111111", NULL, 0) == 255 && __isoc23_strtoul("-0b1", NULL, 0) == ULONG_MAX &&
		    __isoc23_strtoul("42", NULL, 10) == 42,
	    "__isoc23_strtoul reads binary, negates like strtoul, and reads decimal");
	tap(__isoc23_sscanf("12 ab", "%d %7s", &a, word) == 2 && a == 12 && strcmp(word, "ab") == 0,
	    "__isoc23_sscanf reads C99 conversions");
	errno = 0;
	tap(__isoc23_sscanf("101", "%b", &a) == EOF && errno == EINVAL && isoc23_fmt_has_binary("%*5lb") &&
		    !isoc23_fmt_has_binary("%[ab] %d %%b"),
	    "__isoc23_sscanf refuses %b (a scanset or %%b is not one)");
}

static void fortify_shims(void)
{
	char dst[8], out[8], *s = NULL;
	int r;

	tap(__memcpy_chk(dst, "1234567", 8, sizeof(dst)) == dst && strcmp(dst, "1234567") == 0,
	    "__memcpy_chk copies within bounds");
	r = __snprintf_chk(out, sizeof(out), 1, sizeof(out), "%d-%s", 42, "ab");
	tap(r == 5 && strcmp(out, "42-ab") == 0, "__snprintf_chk formats within bounds");
	r = __asprintf_chk(&s, 1, "%s=%d", "k", 7);
	tap(r == 3 && s && strcmp(s, "k=7") == 0, "__asprintf_chk allocates");
	free(s);
	tap(__fdelt_chk(70) == 1, "__fdelt_chk indexes fd_set words");
	tap(!fortify_fmt_has_percent_n("%d %s %% %5.2f %lu %zx") &&
		    fortify_fmt_has_percent_n("x %n") && fortify_fmt_has_percent_n("%hhn") &&
		    fortify_fmt_has_percent_n("%1$n"),
	    "%n detection");
	tap(aborts(bad_memcpy), "__memcpy_chk aborts an overflow");
	tap(aborts(bad_memset), "__memset_chk aborts an overflow");
	tap(aborts(bad_snprintf), "__snprintf_chk aborts maxlen beyond the object");
	tap(aborts(bad_sprintf), "__sprintf_chk aborts an overflow");
	tap(aborts(bad_percent_n), "__printf_chk aborts %n under fortify");
	tap(aborts(bad_fdelt), "__fdelt_chk aborts an fd beyond FD_SETSIZE");
	__explicit_bzero_chk(dst, sizeof(dst), sizeof(dst));
	tap(dst[0] == 0 && dst[7] == 0, "__explicit_bzero_chk zeroes within bounds");
	tap(aborts(bad_bzero), "__explicit_bzero_chk aborts an overflow");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	selftests();
	psa_hash();
	protobuf_round_trip();
	http2_preface();
	fyaml_parse();
	libnl_attrs();
	fortify_shims();
	isoc23_shims();
	printf("1..%d\n", n);
	return failures ? 1 : 0;
}

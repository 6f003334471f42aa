/* SPDX-License-Identifier: MIT */
/*
 * A TLS session kept by osctl between commands (lib/tls.c tls_config_session_put, the
 * contents of a file in sessions/ beside the client config). Only a blob with a valid HMAC
 * reaches mbedTLS's session loader (which trusts its input: the seed
 * mbedtls-hostname-unterminated read past the heap with 3.6.6 before the HMAC); anything
 * accepted must come back byte for byte, and a client that offers it must write a
 * ClientHello (or fail cleanly).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_config *c;
	struct tls_opts o = { .server = false };
	struct tls_conn *t = NULL;
	unsigned char *back = NULL;
	size_t len = 0;
	char err[256];
	int sv[2];

	if (!c && tls_config_new(&o, &c, err, sizeof(err)) < 0)
		abort();
	if (tls_config_session_put(c, "127.0.0.1:50000", data, size) != 0)
		return 0;
	if (tls_config_session_get(c, "127.0.0.1:50000", &back, &len) != 0 || len != size ||
	    memcmp(back, data, size) != 0)
		abort();
	free(back);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return 0;
	if (tls_conn_new(c, sv[0], "127.0.0.1", 50000, &t) == 0) {
		(void)tls_handshake(t);
		tls_conn_free(t);
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}

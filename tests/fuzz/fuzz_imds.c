/* SPDX-License-Identifier: MIT */
/* Replies of the EC2 instance metadata service (machined/platform/cloudinit.c): the first
 * byte picks the field (or the token PUT), the rest is the reply. A value taken is one
 * word of printable text in its field, NUL-terminated; an external address parses; a
 * token holds nothing that could end a header line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"
#include "machined/platform/cloudinit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct platform_metadata md;
	char err[512], tok[IMDS_TOKEN_MAX + 1];
	const char *fields[] = { md.instance_id, md.instance_type, md.hostname, md.region, md.zone };
	const size_t sizes[] = { sizeof(md.instance_id), sizeof(md.instance_type), sizeof(md.hostname),
				 sizeof(md.region), sizeof(md.zone) };
	struct ipaddr ip;

	if (!size)
		return 0;
	if (data[0] % (IMDS_NFIELDS + 1) == IMDS_NFIELDS) {
		if (imds_token((const char *)data + 1, size - 1, tok, err, sizeof(err)) == 0 &&
		    (!tok[0] || strpbrk(tok, "\r\n: ") || strlen(tok) > IMDS_TOKEN_MAX))
			abort();
		return 0;
	}
	memset(&md, 0, sizeof(md));
	if (imds_value((enum imds_field)(data[0] % (IMDS_NFIELDS + 1)), (const char *)data + 1, size - 1, &md, err,
		       sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!memchr(fields[i], '\0', sizes[i]))
			abort();
		for (const char *c = fields[i]; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
				abort();
	}
	if (md.n_external > PLATFORM_EXTERNAL_MAX)
		abort();
	for (unsigned i = 0; i < md.n_external; i++)
		if (!parse_ip(md.external[i], &ip))
			abort();
	return 0;
}

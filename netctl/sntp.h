/* SPDX-License-Identifier: MIT */
/*
 * SNTP (RFC 4330, NTPv4 on the wire), the mechanism: a client's request, a server's reply
 * checked against it, and the clock offset and round-trip delay the four timestamps give.
 * Timestamps are NTP's 64-bit fixed point (seconds since 1900 << 32 | fraction); their
 * differences are taken modulo 2^64, so the 2036 era change does not matter.
 */
#ifndef BASALT_NETCTL_SNTP_H
#define BASALT_NETCTL_SNTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SNTP_PACKET 48

struct sntp_reply {
	unsigned leap, version, stratum;
	int poll, precision;
	uint32_t refid;         /* the reference's id (an address, or four letters at stratum 1) */
	uint64_t orig, recv, xmit;  /* T1 as we sent it, T2, T3 */
};

/* The request into buf (SNTP_PACKET bytes); xmit is its transmit timestamp (T1), which the reply must echo. */
void sntp_request(uint8_t buf[SNTP_PACKET], uint64_t xmit);
/*
 * A reply to the request sent with xmit: 0, or -1 with why (short, not a server's reply,
 * not ours, a kiss-o'-death such as RATE, an unsynchronised server, a zero timestamp).
 */
int sntp_parse(const uint8_t *p, size_t n, uint64_t xmit, struct sntp_reply *out, char *err, size_t errlen);
/* From T1..T3 of r and T4, when the reply arrived: the local clock's offset and the delay, in ns. */
void sntp_offset(const struct sntp_reply *r, uint64_t t4, int64_t *offset_ns, int64_t *delay_ns);

uint64_t sntp_from_timespec(const struct timespec *ts);

#endif

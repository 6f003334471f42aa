/* SPDX-License-Identifier: MIT */
/*
 * memcpy for the static musl programs that carry mbedTLS (machined, apid, osctl). musl's
 * x86-64 memcpy starts `rep movsq` for every size, and that startup costs tens of cycles;
 * mbedTLS's bignum arithmetic copies limb arrays of 32 to 64 bytes millions of times per
 * second in a handshake, where a profile of apid had memcpy at 18% of all cycles. Small
 * sizes here are a few overlapping unaligned loads and stores, middle sizes a loop of
 * 32-byte blocks, large ones `rep movsb` (fast on CPUs with ERMS, as musl's would be).
 * Built with -fno-tree-loop-distribute-patterns, so the compiler does not turn the loop
 * back into a call to memcpy. The unit test (tests/unit/test_memcpy.c) compiles it under
 * another name and checks every size and alignment against a byte loop.
 *
 * musl's memmove calls __memcpy_fwd (defined beside its memcpy) when the destination is
 * below the source: this copy is also correct then, because every block's (and the tail's)
 * loads happen before its stores, and a store never reaches a source byte not yet read.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef COMPAT_MEMCPY
#define COMPAT_MEMCPY memcpy
#endif

void *COMPAT_MEMCPY(void *dst, const void *src, size_t n);
void *__memcpy_fwd(void *dst, const void *src, size_t n);

static inline uint64_t ld8(const unsigned char *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

static inline void st8(unsigned char *p, uint64_t v)
{
	__builtin_memcpy(p, &v, 8);
}

static inline __attribute__((always_inline)) void *copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n <= 16) {
		if (n >= 8) {
			uint64_t a = ld8(s), b = ld8(s + n - 8);

			st8(d, a);
			st8(d + n - 8, b);
		} else if (n >= 4) {
			uint32_t a, b;

			__builtin_memcpy(&a, s, 4);
			__builtin_memcpy(&b, s + n - 4, 4);
			__builtin_memcpy(d, &a, 4);
			__builtin_memcpy(d + n - 4, &b, 4);
		} else if (n) {
			unsigned char a = s[0], b = s[n / 2], c = s[n - 1];

			d[0] = a;
			d[n / 2] = b;
			d[n - 1] = c;
		}
		return dst;
	}
	if (n <= 32) {
		uint64_t a = ld8(s), b = ld8(s + 8), c = ld8(s + n - 16), e = ld8(s + n - 8);

		st8(d, a);
		st8(d + 8, b);
		st8(d + n - 16, c);
		st8(d + n - 8, e);
		return dst;
	}
	if (n >= 2048) {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		return dst;
	}
	{
		/* The last 32 bytes first (they may overlap the loop's last block). */
		uint64_t a = ld8(s + n - 32), b = ld8(s + n - 24), c = ld8(s + n - 16), e = ld8(s + n - 8);
		unsigned char *tail = d + n - 32;

		for (size_t i = 0; i + 32 <= n; i += 32) {
			uint64_t w = ld8(s + i), x = ld8(s + i + 8), y = ld8(s + i + 16), z = ld8(s + i + 24);

			st8(d + i, w);
			st8(d + i + 8, x);
			st8(d + i + 16, y);
			st8(d + i + 24, z);
		}
		st8(tail, a);
		st8(tail + 8, b);
		st8(tail + 16, c);
		st8(tail + 24, e);
	}
	return dst;
}

void *COMPAT_MEMCPY(void *dst, const void *src, size_t n)
{
	return copy(dst, src, n);
}

#if !defined(COMPAT_MEMCPY_TEST)
void *__memcpy_fwd(void *dst, const void *src, size_t n)
{
	return copy(dst, src, n);
}
#endif

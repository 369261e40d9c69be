/* blfilt: the /24 presence filter of an IPv4 list (blstore schema 3).
 *
 * One bit per /24 of the IPv4 space, cut into 256 chunks of BLFILT_CHUNK
 * bytes, one per /8. In the chunk of /8 a, bit (b << 8 | c), counted from
 * the most significant bit of byte 0 (so the bitmap reads in address
 * order), stands for a.b.c.0/24.
 *
 * A bit is set when some positive entry of the list covers an address of
 * that /24. So a clear bit proves that the list holds nothing for any
 * address of that /24, and a lookup may answer "not listed" without
 * walking the B-tree. A set bit proves nothing (a /32 sets its /24's bit
 * for all 256 addresses; deletions leave bits set): it costs the normal
 * lookup, never a wrong answer. Exclusions ("!") never set bits: they can
 * only take addresses out.
 *
 * The pure functions here work on chunks; struct blfilt is the builder a
 * writer fills in memory before storing the chunks it touched
 * (blstore_filt_merge). */
#ifndef MXDNS_BLFILT_H
#define MXDNS_BLFILT_H

#include <stddef.h>
#include <stdint.h>

#define BLFILT_CHUNK 8192 /* bytes: 65,536 bits, one per /24 of a /8 */

/* The /8s that the prefix (addr, plen), plen 0..32, touches: first..last. */
void blfilt_span(const uint8_t addr[4], int plen, int *first, int *last);

/* Sets, in chunk (the chunk of /8 octet), the bit of every /24 that the
 * prefix (addr, plen) touches; a prefix outside that /8 sets nothing. */
void blfilt_chunk_set(uint8_t *chunk, int octet, const uint8_t addr[4], int plen);

/* The byte of chunk (the chunk of addr[0]) that holds addr's /24 bit. */
static inline const uint8_t *blfilt_byte(const uint8_t *chunk, const uint8_t addr[4])
{
	return chunk + (((unsigned)addr[1] << 8 | addr[2]) >> 3);
}

/* Whether the /24 of addr may hold a listed address. chunk: the chunk of
 * addr[0], NULL when the list has none (nothing listed in that /8). */
static inline int blfilt_test(const uint8_t *chunk, const uint8_t addr[4])
{
	return chunk != NULL && (*blfilt_byte(chunk, addr) >> (7 - (addr[2] & 7)) & 1);
}

/* A filter being built: the chunks touched so far. */
struct blfilt {
	uint8_t *chunk[256]; /* NULL: no bit set in that /8 yet */
};

struct blfilt *blfilt_new(void);
void blfilt_free(struct blfilt *f);
/* Back to empty (frees the chunks). */
void blfilt_clear(struct blfilt *f);
/* Adds the prefix (addr, plen). Returns 0, MX_EINVAL (plen outside 0..32)
 * or -ENOMEM. */
int blfilt_add(struct blfilt *f, const uint8_t addr[4], int plen);

#endif

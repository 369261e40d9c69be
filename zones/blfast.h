/* blfast: the answer index of an IPv4 list, one record per /8 (blstore
 * schema 6).
 *
 * The /24 filter (blfilt.h) lets an unlisted address skip the B-tree; a
 * listed one still paid a descent of some twenty comparisons and the
 * leaf page's cache miss. This record answers most listed addresses
 * without it: for the /8 it covers, it holds one value (the "usual" one,
 * the answer most of that /8's listings give) and, for every /24, what
 * the list's longest-prefix match says of its 256 addresses:
 *   - nothing listed: the /24's bit is clear (an exact filter: a writer
 *     rebuilds the record of every /8 it changes, deletes included);
 *   - all 256 listed with the usual value and no expiry: ALL;
 *   - at most BLFAST_INLINE addresses listed, each with the usual value
 *     and no expiry, the rest unlisted: those last octets, inline;
 *   - anything else (another answer, an expiry, more addresses): ASK,
 *     and the lookup walks the B-tree as before.
 * So the record never answers differently from the B-tree: where it
 * could, it says ASK.
 *
 * Layout (integers big-endian):
 *   [0]      version (1)
 *   [2..3]   length of the usual value
 *   [4..7]   number of slots (set bits)
 *   [8..47]  zero
 *   [48..]   bitmap: BLFILT_CHUNK bytes, bit (b << 8 | c) from the most
 *            significant bit of byte 0 stands for a.b.c.0/24 (as blfilt)
 *   then     rank: BLFAST_WORDS u32, the set bits before each 64-bit word of
 *            the bitmap (so a lookup counts the bits of one word only)
 *   then     the usual value, as an entry's value is stored (blval)
 *   then     one 4-byte slot per set bit, in bit order:
 *            [n][octet][octet][octet] with n 1..BLFAST_INLINE, or
 *            [BLFAST_ALL][0][0][0], or [BLFAST_ASK][0][0][0]
 * The header is 48 bytes so that the bitmap starts on a cache line in
 * LMDB's overflow pages (16-byte page header). */
#ifndef MXDNS_BLFAST_H
#define MXDNS_BLFAST_H

#include "bigend.h"
#include "blfilt.h"

#include <stddef.h>
#include <stdint.h>

#define BLFAST_VERSION 1
#define BLFAST_HDR 48
#define BLFAST_WORDS 1024 /* 65,536 bits */
#define BLFAST_INLINE 3
#define BLFAST_ALL 0xFE
#define BLFAST_ASK 0xFF
#define BLFAST_VAL_MAX 1024 /* a longer usual value: no record */

/* What the longest match of the list says of an address or prefix. */
enum blfast_class {
	BLFAST_NONE = 0, /* not listed (no entry, or an exclusion) */
	BLFAST_USUAL,    /* listed with the record's value, no expiry */
	BLFAST_OTHER,    /* anything else: the B-tree must say */
};

/* One entry of the /8, or the prefix shorter than /8 that covers it. */
struct blfast_ent {
	uint8_t addr[4];
	uint8_t plen; /* 8..32 for entries of the /8 */
	uint8_t cls;  /* enum blfast_class */
};

/* Builds the record of /8 octet. cover: the class of the longest prefix
 * shorter than 8 bits that covers the /8 (BLFAST_NONE if none). ents: the
 * /8's entries (plen 8..32, inside the /8; reordered). val: the usual
 * value (vlen <= BLFAST_VAL_MAX). Returns 0 with *out (malloc'ed, the
 * caller frees) and *outlen, *out NULL when nothing of the /8 is listed
 * (no record); MX_EINVAL for an entry outside the /8 or a bad length;
 * -ENOMEM. */
int blfast_build(int octet, enum blfast_class cover, struct blfast_ent *ents, size_t n,
                 const uint8_t *val, size_t vlen, uint8_t **out, size_t *outlen);

/* Whether rec (len bytes, as stored) is a record this code reads: the
 * version, the lengths and the rank table all agree with the bitmap. A
 * reader checks once per fetched record, so lookups need not. */
int blfast_valid(const uint8_t *rec, size_t len);

/* The usual value of a valid record. */
const uint8_t *blfast_value(const uint8_t *rec, size_t *vlen);

enum blfast_verdict { BLFAST_UNLISTED = 0, BLFAST_LISTED, BLFAST_WALK };

/* The length of a record's usual value (its header's bytes 2..3). */
static inline size_t blfast_vlen(const uint8_t *rec)
{
	return (size_t)rec[2] << 8 | rec[3];
}

/* The set bits of x: one instruction where the target has it (the
 * build does not assume it), else a few shifts and adds. */
static inline unsigned blfast_popcount(uint64_t x)
{
#ifdef __POPCNT__
	return (unsigned)__builtin_popcountll(x);
#else
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* The slot of addr's /24 in a valid record (addr[0] is its /8), NULL
 * when nothing of that /24 is listed. */
static inline const uint8_t *blfast_slot(const uint8_t *rec, const uint8_t addr[4])
{
	const uint8_t *bm = rec + BLFAST_HDR;
	unsigned idx = (unsigned)addr[1] << 8 | addr[2];
	if (!(bm[idx >> 3] >> (7 - (idx & 7)) & 1))
		return NULL;
	uint32_t r = bigend_get32(bm + BLFILT_CHUNK + (idx >> 6) * 4);
	if (idx & 63) {
		uint64_t x;
		__builtin_memcpy(&x, bm + (idx >> 6) * 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		x = __builtin_bswap64(x);
#endif
		r += blfast_popcount(x >> (64 - (idx & 63))); /* big-endian: the bits before */
	}
	return bm + BLFILT_CHUNK + BLFAST_WORDS * 4 + blfast_vlen(rec) + (size_t)r * 4;
}

/* What a valid record says of addr. */
static inline enum blfast_verdict blfast_lookup(const uint8_t *rec, const uint8_t addr[4])
{
	const uint8_t *slot = blfast_slot(rec, addr);
	if (slot == NULL)
		return BLFAST_UNLISTED;
	if (slot[0] == BLFAST_ALL)
		return BLFAST_LISTED;
	if (slot[0] > BLFAST_INLINE)
		return BLFAST_WALK;
	for (int i = 1; i <= slot[0]; i++)
		if (slot[i] == addr[3])
			return BLFAST_LISTED;
	return BLFAST_UNLISTED;
}

/* Where blfast_slot reads first for addr (its bitmap byte, its rank
 * word), for the caller to prefetch. */
static inline const uint8_t *blfast_bit_addr(const uint8_t *rec, const uint8_t addr[4])
{
	return rec + BLFAST_HDR + (((unsigned)addr[1] << 8 | addr[2]) >> 3);
}

static inline const uint8_t *blfast_rank_addr(const uint8_t *rec, const uint8_t addr[4])
{
	return rec + BLFAST_HDR + BLFILT_CHUNK + (((unsigned)addr[1] << 8 | addr[2]) >> 6) * 4;
}

#endif

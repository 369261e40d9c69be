/* fuzz_blfast: the answer index record of an IPv4 list (zones/blfast.h),
 * which a reader takes from a database file on disk and a writer builds
 * from the list's entries.
 *
 * Byte 0 picks the mode, the rest is its input:
 *   0  a stored record: blfast_valid must refuse it or every lookup in
 *      it must read inside it (ASan sees the rest) and give a verdict
 *   1  entries of /8 9 (6 bytes each: b, c, d, prefix length, class, and
 *      a byte whose low bits are the cover's class): blfast_build's record
 *      must be valid and every verdict must be the longest match's, by a
 *      brute-force oracle over the entries */
#include "fuzz.h"

#include "blfast.h"
#include "errcode.h"

#define FUZZ_BLFAST_MAX 64

static void fuzz_blfast_stored(const uint8_t *rec, size_t len)
{
	if (!blfast_valid(rec, len))
		return;
	size_t vlen;
	const uint8_t *val = blfast_value(rec, &vlen);
	FUZZ_CHECK(val >= rec && val + vlen <= rec + len);
	/* Every /24 once (the bitmap and every slot), three last octets. */
	for (unsigned idx = 0; idx < 65536; idx++) {
		uint8_t a[4] = {9, (uint8_t)(idx >> 8), (uint8_t)idx, (uint8_t)idx};
		const uint8_t *slot = blfast_slot(rec, a);
		FUZZ_CHECK(slot == NULL || (slot >= rec + BLFAST_HDR && slot + 4 <= rec + len));
		int v = blfast_lookup(rec, a);
		FUZZ_CHECK(v == BLFAST_UNLISTED || v == BLFAST_LISTED || v == BLFAST_WALK);
	}
}

/* The class the longest prefix containing a gives (cover below /8). */
static int fuzz_blfast_oracle(const struct blfast_ent *e, size_t n, int cover, const uint8_t a[4])
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	int best = -1, cls = cover;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = (uint32_t)e[i].addr[0] << 24 | (uint32_t)e[i].addr[1] << 16 |
		             (uint32_t)e[i].addr[2] << 8 | e[i].addr[3];
		uint32_t m = ~0u << (32 - e[i].plen);
		if ((x & m) == (p & m) && e[i].plen > best) {
			best = e[i].plen;
			cls = e[i].cls;
		}
	}
	return cls;
}

static void fuzz_blfast_built(const uint8_t *in, size_t len)
{
	struct blfast_ent e[FUZZ_BLFAST_MAX], copy[FUZZ_BLFAST_MAX];
	size_t n = 0;
	int cover = len ? in[0] % 3 : 0;
	for (size_t o = 1; o + 5 <= len && n < FUZZ_BLFAST_MAX; o += 5) {
		struct blfast_ent x = {{9, in[o], in[o + 1], in[o + 2]},
		                       (uint8_t)(8 + in[o + 3] % 25),
		                       (uint8_t)(in[o + 4] % 3)};
		uint32_t m = ~0u << (32 - x.plen);
		uint32_t p = ((uint32_t)9 << 24 | (uint32_t)x.addr[1] << 16 |
		              (uint32_t)x.addr[2] << 8 | x.addr[3]) &
		             m;
		x.addr[1] = (uint8_t)(p >> 16);
		x.addr[2] = (uint8_t)(p >> 8);
		x.addr[3] = (uint8_t)p;
		/* keys are unique in the database: one entry per prefix */
		int dup = 0;
		for (size_t i = 0; i < n && !dup; i++)
			dup = e[i].plen == x.plen && memcmp(e[i].addr, x.addr, 4) == 0;
		if (!dup)
			e[n++] = x;
	}
	static const uint8_t val[] = {2, 0, 1, 2};
	uint8_t *rec;
	size_t rlen;
	memcpy(copy, e, sizeof(e[0]) * n);
	int rc = blfast_build(9, (enum blfast_class)cover, copy, n, val, sizeof(val), &rec, &rlen);
	FUZZ_CHECK(rc == 0);
	/* No record: nothing may be listed anywhere in the /8 (below). */
	FUZZ_CHECK(rec == NULL || blfast_valid(rec, rlen));
	/* Every /24 an entry starts in, and its neighbours. */
	for (size_t i = 0; i < n; i++) {
		for (int dc = -1; dc <= 1; dc++) {
			unsigned idx = ((unsigned)e[i].addr[1] << 8 | e[i].addr[2]) + (unsigned)dc;
			if (idx > 65535)
				continue;
			uint8_t cls[256];
			int usual = 0, other = 0;
			for (int d = 0; d < 256; d++) {
				uint8_t a[4] = {9, (uint8_t)(idx >> 8), (uint8_t)idx, (uint8_t)d};
				cls[d] = (uint8_t)fuzz_blfast_oracle(e, n, cover, a);
				usual += cls[d] == BLFAST_USUAL;
				other += cls[d] == BLFAST_OTHER;
			}
			int exact = usual == 256 || (other == 0 && usual <= BLFAST_INLINE);
			FUZZ_CHECK(rec != NULL || (usual == 0 && other == 0));
			for (int d = 0; d < 256 && rec; d++) {
				uint8_t a[4] = {9, (uint8_t)(idx >> 8), (uint8_t)idx, (uint8_t)d};
				int v = blfast_lookup(rec, a);
				if (exact)
					FUZZ_CHECK(v == (cls[d] == BLFAST_USUAL ? BLFAST_LISTED
					                                        : BLFAST_UNLISTED));
				else
					FUZZ_CHECK(v == BLFAST_WALK);
			}
		}
	}
	free(rec);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_blfast_stored(data + 1, size - 1);
	else
		fuzz_blfast_built(data + 1, size - 1);
	return 0;
}

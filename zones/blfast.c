/* blfast: the answer index of an IPv4 list (see blfast.h). */
#include "blfast.h"

#include "bigend.h"
#include "blfilt.h"
#include "errcode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RANK_OFF (BLFAST_HDR + BLFILT_CHUNK)
#define VAL_OFF (RANK_OFF + BLFAST_WORDS * 4)

static unsigned idx24(const struct blfast_ent *e)
{
	return (unsigned)e->addr[1] << 8 | e->addr[2];
}

/* Prefixes of /24 and shorter first, shortest first, so that painting
 * them in order leaves each /24 with its longest match; then the longer
 * ones grouped by /24, again shortest first. */
static int ent_cmp(const void *a, const void *b)
{
	const struct blfast_ent *x = a, *y = b;
	int gx = x->plen > 24, gy = y->plen > 24;
	if (gx != gy)
		return gx - gy;
	if (gx && idx24(x) != idx24(y))
		return idx24(x) < idx24(y) ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen - y->plen;
	return memcmp(x->addr, y->addr, 4);
}

/* The slot of a /24 whose addresses have the classes c[256]; slot[0] 0
 * when none is listed. */
static void slot_of(const uint8_t c[256], uint8_t slot[4])
{
	int usual = 0, other = 0;
	for (int a = 0; a < 256; a++) {
		usual += c[a] == BLFAST_USUAL;
		other += c[a] == BLFAST_OTHER;
	}
	memset(slot, 0, 4);
	if (other || usual > BLFAST_INLINE) {
		slot[0] = usual == 256 ? BLFAST_ALL : BLFAST_ASK;
		return;
	}
	for (int a = 0; a < 256; a++)
		if (c[a] == BLFAST_USUAL)
			slot[1 + slot[0]++] = (uint8_t)a;
}

int blfast_build(int octet, enum blfast_class cover, struct blfast_ent *ents, size_t n,
                 const uint8_t *val, size_t vlen, uint8_t **out, size_t *outlen)
{
	uint8_t *cls = NULL, *rec = NULL;
	int rc = MX_EINVAL;

	*out = NULL;
	*outlen = 0;
	if (octet < 0 || octet > 255 || vlen > BLFAST_VAL_MAX || cover > BLFAST_OTHER)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (ents[i].addr[0] != octet || ents[i].plen < 8 || ents[i].plen > 32 ||
		    ents[i].cls > BLFAST_OTHER)
			goto fail;
	rc = -ENOMEM;
	size_t cap = VAL_OFF + vlen + (size_t)65536 * 4;
	if ((cls = malloc(65536)) == NULL || (rec = calloc(1, cap)) == NULL)
		goto fail;
	if (n)
		qsort(ents, n, sizeof(*ents), ent_cmp);

	/* Each /24's longest match among the prefixes that cover it whole. */
	memset(cls, cover, 65536);
	size_t i = 0;
	for (; i < n && ents[i].plen <= 24; i++) {
		unsigned span = 1u << (24 - ents[i].plen);
		memset(cls + (idx24(&ents[i]) & ~(span - 1)), ents[i].cls, span);
	}

	uint8_t *bm = rec + BLFAST_HDR, *slots = rec + VAL_OFF + vlen;
	uint32_t ns = 0;
	for (unsigned idx = 0; idx < 65536; idx++) {
		uint8_t slot[4] = {0, 0, 0, 0};
		if (i < n && idx24(&ents[i]) == idx) {
			/* Longer prefixes inside this /24: per address. */
			uint8_t c[256];
			memset(c, cls[idx], sizeof(c));
			for (; i < n && idx24(&ents[i]) == idx; i++) {
				unsigned span = 1u << (32 - ents[i].plen);
				memset(c + (ents[i].addr[3] & ~(span - 1)), ents[i].cls, span);
			}
			slot_of(c, slot);
		} else if (cls[idx] != BLFAST_NONE) {
			slot[0] = cls[idx] == BLFAST_USUAL ? BLFAST_ALL : BLFAST_ASK;
		}
		if (slot[0] == 0)
			continue;
		bm[idx >> 3] |= (uint8_t)(0x80 >> (idx & 7));
		memcpy(slots + (size_t)ns * 4, slot, 4);
		ns++;
	}
	if (ns == 0) {
		rc = 0;
		goto fail; /* nothing listed: no record */
	}
	uint32_t before = 0;
	for (int w = 0; w < BLFAST_WORDS; w++) {
		bigend_put32(rec + RANK_OFF + w * 4, before);
		uint64_t x;
		memcpy(&x, bm + w * 8, 8);
		before += blfast_popcount(x);
	}
	rec[0] = BLFAST_VERSION;
	rec[2] = (uint8_t)(vlen >> 8);
	rec[3] = (uint8_t)vlen;
	bigend_put32(rec + 4, ns);
	if (vlen)
		memcpy(rec + VAL_OFF, val, vlen);
	free(cls);
	*out = rec;
	*outlen = VAL_OFF + vlen + (size_t)ns * 4;
	return 0;
fail:
	free(cls);
	free(rec);
	return rc;
}

int blfast_valid(const uint8_t *rec, size_t len)
{
	if (len < VAL_OFF || rec[0] != BLFAST_VERSION)
		return 0;
	size_t vlen = blfast_vlen(rec);
	uint32_t ns = bigend_get32(rec + 4);
	if (vlen > BLFAST_VAL_MAX || len != VAL_OFF + vlen + (size_t)ns * 4)
		return 0;
	uint32_t before = 0;
	for (int w = 0; w < BLFAST_WORDS; w++) {
		if (bigend_get32(rec + RANK_OFF + w * 4) != before)
			return 0;
		uint64_t x;
		memcpy(&x, rec + BLFAST_HDR + w * 8, 8);
		before += blfast_popcount(x);
	}
	return before == ns;
}

const uint8_t *blfast_value(const uint8_t *rec, size_t *vlen)
{
	*vlen = blfast_vlen(rec);
	return rec + VAL_OFF;
}

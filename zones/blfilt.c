/* blfilt: the /24 presence filter of an IPv4 list (see blfilt.h). */
#include "blfilt.h"

#include "errcode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The first and last address of the prefix, as host-order integers. */
static void prefix_range(const uint8_t addr[4], int plen, uint32_t *lo, uint32_t *hi)
{
	uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 |
		     addr[3];
	uint32_t mask = plen <= 0 ? 0 : plen >= 32 ? UINT32_MAX : UINT32_MAX << (32 - plen);
	*lo = a & mask;
	*hi = *lo | ~mask;
}

void blfilt_span(const uint8_t addr[4], int plen, int *first, int *last)
{
	uint32_t lo, hi;
	prefix_range(addr, plen, &lo, &hi);
	*first = (int)(lo >> 24);
	*last = (int)(hi >> 24);
}

/* Sets bits lo..hi (inclusive, 0..65535) of a chunk. */
static void set_bits(uint8_t *c, unsigned lo, unsigned hi)
{
	for (; lo <= hi && (lo & 7); lo++)
		c[lo >> 3] |= (uint8_t)(0x80 >> (lo & 7));
	if (lo + 7 <= hi) {
		unsigned n = (hi + 1 - lo) >> 3;
		memset(c + (lo >> 3), 0xFF, n);
		lo += n << 3;
	}
	for (; lo <= hi; lo++)
		c[lo >> 3] |= (uint8_t)(0x80 >> (lo & 7));
}

void blfilt_chunk_set(uint8_t *chunk, int octet, const uint8_t addr[4], int plen)
{
	uint32_t lo, hi;
	prefix_range(addr, plen, &lo, &hi);
	/* in /24 units, clipped to this /8 */
	uint32_t base = (uint32_t)octet << 16, l = lo >> 8, h = hi >> 8;
	if (h < base || l > base + 0xFFFF)
		return;
	if (l < base)
		l = base;
	if (h > base + 0xFFFF)
		h = base + 0xFFFF;
	set_bits(chunk, l - base, h - base);
}

struct blfilt *blfilt_new(void)
{
	return calloc(1, sizeof(struct blfilt));
}

void blfilt_clear(struct blfilt *f)
{
	for (int i = 0; i < 256; i++) {
		free(f->chunk[i]);
		f->chunk[i] = NULL;
	}
}

void blfilt_free(struct blfilt *f)
{
	if (f == NULL)
		return;
	blfilt_clear(f);
	free(f);
}

int blfilt_add(struct blfilt *f, const uint8_t addr[4], int plen)
{
	int first, last;
	if (plen < 0 || plen > 32)
		return MX_EINVAL;
	blfilt_span(addr, plen, &first, &last);
	for (int o = first; o <= last; o++) {
		if (f->chunk[o] == NULL && (f->chunk[o] = calloc(1, BLFILT_CHUNK)) == NULL)
			return -ENOMEM;
		blfilt_chunk_set(f->chunk[o], o, addr, plen);
	}
	return 0;
}

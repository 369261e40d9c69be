/* bigend: big-endian integers in byte buffers, as the listing database
 * stores them (its keys sort by memcmp, so numbers go most significant
 * byte first). */
#ifndef MXDNS_BIGEND_H
#define MXDNS_BIGEND_H

#include <stdint.h>

static inline uint32_t bigend_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void bigend_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t bigend_get64(const uint8_t *p)
{
	return (uint64_t)bigend_get32(p) << 32 | bigend_get32(p + 4);
}

static inline void bigend_put64(uint8_t *p, uint64_t v)
{
	bigend_put32(p, (uint32_t)(v >> 32));
	bigend_put32(p + 4, (uint32_t)v);
}

#endif

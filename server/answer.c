/* answer: placeholder (REFUSED for everything) until the answer engine lands. */
#include "answer.h"

#include <string.h>

size_t answer_build(const uint8_t *q, size_t qlen, const struct zonedb *db, struct answer_ctx *ctx,
		    uint8_t *out, size_t cap)
{
	(void)db;
	if (qlen < 12 || (q[2] & 0x80) || cap < 12)
		return 0;
	memcpy(out, q, 12);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));
	out[3] = 5;
	memset(out + 4, 0, 8);
	ctx->rcode = 5;
	return 12;
}

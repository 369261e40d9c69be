/* coalesce: when a UDP worker pauses before reading again. */
#include "coalesce.h"

void coalesce_init(struct coalesce *c, int batch_max)
{
	c->batch_max = batch_max;
	c->want = c->judge = c->flat = c->skip = 0;
}

void coalesce_after_reads(struct coalesce *c, int first, int last)
{
	if (c->judge > 0) {
		c->flat = first > c->judge ? 0 : c->flat + 1;
		if (c->flat >= COALESCE_FLAT) {
			c->skip = COALESCE_BACKOFF;
			c->flat = 0;
		}
		c->judge = 0;
	}
	if (last < COALESCE_MIN || last >= c->batch_max)
		return;
	if (c->skip > 0)
		c->skip--;
	else
		c->want = last;
}

int coalesce_take(struct coalesce *c)
{
	if (c->want == 0)
		return 0;
	c->judge = c->want;
	c->want = 0;
	return 1;
}

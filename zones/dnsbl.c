/* dnsbl: placeholder until the DNSBL store lands. */
#include "dnsbl.h"

#include "errcode.h"

#include <stdio.h>
#include <stdlib.h>

struct zone *dnsbl_zone_load(const struct config_dnsbl *cfg, char *err, size_t errlen)
{
	(void)cfg;
	snprintf(err, errlen, "DNSBL zones are not implemented yet");
	return NULL;
}

void dnsbl_zone_free(struct dnsbl_zone *bz)
{
	(void)bz;
}

struct dnsbl_readers *dnsbl_readers_new(void)
{
	return NULL;
}

void dnsbl_readers_free(struct dnsbl_readers *r)
{
	(void)r;
}

void dnsbl_readers_refresh(struct dnsbl_readers *r, uint64_t now_ms)
{
	(void)r;
	(void)now_ms;
}

void dnsbl_readers_reset(struct dnsbl_readers *r)
{
	(void)r;
}

void dnsbl_lookup(const struct dnsbl_zone *bz, struct dnsbl_readers *r, const uint8_t *rel,
		  size_t rel_len, int rel_labels, const struct sockaddr *client, uint64_t now,
		  int want_txt, struct dnsbl_answer *out)
{
	out->status = DNSBL_SERVFAIL;
}

/* dnsbl: DNSBL zones (RFC 5782) answered from an LMDB listing database.
 *
 * A DNSBL zone is a struct zone (its apex SOA and NS come from the
 * configuration) with a struct dnsbl_zone attached, which maps the part of
 * the query name below the apex to a typed key (IPv4, IPv6 or domain) and
 * looks it up in the worker's read transaction. */
#ifndef MXDNS_DNSBL_H
#define MXDNS_DNSBL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config_dnsbl;
struct zone;
struct dnsbl_zone;
struct dnsbl_readers;

#define DNSBL_MAX_CODES 8
#define DNSBL_TXT_MAX 512 /* rendered TXT rdata: <len><bytes> strings */

enum dnsbl_status {
	DNSBL_NXDOMAIN = 0, /* not listed */
	DNSBL_NODATA,       /* the name exists (above listings): RFC 8020 */
	DNSBL_LISTED,       /* codes (and txt) are set */
	DNSBL_REFUSED,      /* the ACL refuses this client */
	DNSBL_SERVFAIL,     /* the database could not be read */
};

struct dnsbl_answer {
	enum dnsbl_status status;
	uint8_t n_codes;
	uint8_t codes[DNSBL_MAX_CODES][4]; /* A rdata, e.g. 127.0.0.2 */
	uint16_t txt_len;
	uint8_t txt[DNSBL_TXT_MAX]; /* TXT rdata, reason with '$' expanded */
	uint32_t ttl;
};

/* Builds the zone (apex SOA/NS from cfg) with its DNSBL part attached.
 * Opens (or shares, within this process) the LMDB environment read-only.
 * On error returns NULL with a message naming the zone and database. */
struct zone *dnsbl_zone_load(const struct config_dnsbl *cfg, char *err, size_t errlen);
/* Called by zone_unref when the zone goes. */
void dnsbl_zone_free(struct dnsbl_zone *bz);

/* The per-worker read transactions, one per open database. */
struct dnsbl_readers *dnsbl_readers_new(void);
void dnsbl_readers_free(struct dnsbl_readers *r);
/* Renews transactions older than a few milliseconds, so new commits are
 * seen and old pages can be reused. Call before answering a batch. */
void dnsbl_readers_refresh(struct dnsbl_readers *r, uint64_t now_ms);
/* Ends the read transactions (call when the worker goes idle). */
void dnsbl_readers_reset(struct dnsbl_readers *r);

/* The query name below a DNSBL zone's apex, its IPv4 reading parsed once
 * for both the batch's warm-up and the lookup. */
struct dnsbl_name {
	const uint8_t *rel; /* borrowed: the lowercased wire labels (no root
			     * label); len 0 is the apex */
	size_t len;
	int labels;
	int n4;             /* blkey_parse_ip4's result: 4 for a whole address */
	uint8_t a4[4];
};

void dnsbl_name_set(struct dnsbl_name *n, const uint8_t *rel, size_t len, int labels);

/* want_txt: fill txt (TXT or ANY queries). now: Unix seconds, for expiry.
 * Never allocates (except the first read transaction a worker opens on a
 * database). */
void dnsbl_lookup(const struct dnsbl_zone *bz, struct dnsbl_readers *r, const struct dnsbl_name *nm,
		  const struct sockaddr *client, uint64_t now, int want_txt, struct dnsbl_answer *out);

#define DNSBL_WARM_MAX 4

/* Where a dnsbl_lookup of the same name that comes soon reads, for the
 * caller to prefetch (answer.h: a batch's misses overlap), in the zone's
 * first lists whose /8 records the worker's snapshot already holds.
 * Stage 0: an IPv4 name's bit and rank word in the answer index, or its
 * /24 filter byte. Stage 1, once those are in cache: the index's slot.
 * Fills at[] and returns how many; 0 for other names. The addresses are
 * in the snapshot's map: a prefetch of one after the snapshot moved on
 * only warms the wrong line. */
size_t dnsbl_warm_addrs(const struct dnsbl_zone *bz, struct dnsbl_readers *r,
			const struct dnsbl_name *nm, int stage, const void *at[DNSBL_WARM_MAX]);

#endif

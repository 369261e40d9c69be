/* blimport: reading listings (rbldnsd data files and the plain format)
 * into a batch of encoded entries, and applying a batch to the database
 * in one write transaction with the safety checks.
 *
 * Parsing and applying are separate so that a file is validated entirely
 * (a bad line fails the import with FILE:LINE before anything is written)
 * and so that the apply step can be re-run from the start when the map
 * has to grow. */
#ifndef MXDNS_BLIMPORT_H
#define MXDNS_BLIMPORT_H

#include "blstore.h"

#include <stdint.h>
#include <stdio.h>

#define BLIMPORT_MAX_LISTS 64

/* Formats: "plain", and rbldnsd's "ip4set", "ip4tset", "ip4trie",
 * "ip6tset", "ip6trie", "dnset", "combined", "generic" (also accepted
 * with a "rbldnsd-" prefix). */
int blimport_format_known(const char *format);

struct blimport_opts {
	const char *format;
	const char *list;     /* where entries go; combined: the base zone's list */
	uint8_t codes[BLVAL_MAX_CODES][4]; /* plain: --code (default 127.0.0.2) */
	int n_codes;
	uint64_t expires;     /* 0 = never */
	uint64_t now;         /* listed-at time */
	int skip_bad;         /* report bad lines and go on */
	FILE *report;         /* where skipped lines and notes go (may be NULL) */
};

struct blimport_entry {
	uint64_t koff, voff; /* in the pool */
	uint32_t vlen;
	uint32_t seq;        /* input order, so the last duplicate wins */
	uint16_t klen;
	uint16_t list;       /* index into lists */
};

struct blimport {
	struct blimport_entry *e;
	size_t n, cap;
	uint8_t *pool;
	size_t pool_len, pool_cap;
	char *lists[BLIMPORT_MAX_LISTS];
	uint32_t ttl[BLIMPORT_MAX_LISTS]; /* $TTL per list, 0 = none */
	size_t n_lists;
	size_t n_lines, n_bad;
	double addrs[2];     /* addresses newly listed: [0] IPv4, [1] IPv6 */
	uint64_t last_voff;  /* the previous value, shared when equal */
	uint32_t last_vlen;
};

void blimport_init(struct blimport *im);
void blimport_cleanup(struct blimport *im);

/* Parses a data file ("-" is stdin) into im. On a bad line returns
 * MX_ESYNTAX with "FILE:LINE: what" in err, unless opts->skip_bad (then
 * each bad line is reported and counted in im->n_bad). */
int blimport_file(struct blimport *im, const char *path, const struct blimport_opts *o, char *err,
		  size_t errlen);
/* The same from a stream; label names it in messages. */
int blimport_stream(struct blimport *im, FILE *fp, const char *label,
		    const struct blimport_opts *o, char *err, size_t errlen);

/* One entry in the plain syntax (address, CIDR, range A-B, domain,
 * *.domain, .domain) with its value; for `mxdns bl add/del`. */
int blimport_entry_add(struct blimport *im, const char *list, const char *text, int exclude,
		       const struct blval *v, char *err, size_t errlen);

/* Sorts by key; of equal keys in the same list the last one stays. */
void blimport_sort(struct blimport *im);

enum blapply_mode { BLAPPLY_PUT = 0, BLAPPLY_DEL };

struct blapply_opts {
	enum blapply_mode mode;
	int replace;        /* clear each list first (one transaction) */
	int force;          /* skip the safety checks */
	double max_addrs[2]; /* budget of newly listed addresses, IPv4 and IPv6 */
	int progress;       /* a progress line on stderr for long runs */
};

struct blapply_result {
	size_t put, deleted, missing; /* missing: del of an absent entry */
	double seconds;
};

/* Applies a sorted batch in one write transaction (re-run if the map
 * must grow). Refuses (MX_EREFUSED, err says why) unless o->force: a
 * budget overrun, 127.0.0.1 (or its IPv6 and INVALID forms) listed, or a
 * listed 127.0.0.2 / ::FFFF:7F00:2 / TEST test point dropped. */
int blimport_apply(struct blstore *s, const struct blimport *im, const struct blapply_opts *o,
		   struct blapply_result *res, char *err, size_t errlen);

#endif

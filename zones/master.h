/* master: reading RFC 1035 §5 master files into wire-form records.
 *
 * The reader tokenizes entries itself (parentheses, quotes, escapes,
 * comments, blank owners, $ORIGIN, $TTL, $INCLUDE) and turns the rdata of
 * the types that make up most of a mail zone (A AAAA NS CNAME PTR DNAME MX
 * TXT SRV, and TLSA in its usual decimal-and-hex form) into wire form
 * directly; every other type, and RFC 3597 `\#` data, goes through ldns.
 * ldns reads a file one character at a time with a full tokenizer per
 * record, which made a million-record zone take twenty seconds to load;
 * this keeps ldns's coverage at a fraction of the cost. */
#ifndef MXDNS_MASTER_H
#define MXDNS_MASTER_H

#include "name.h"

#include <stddef.h>
#include <stdint.h>

#define MASTER_MAX_NAMES 4
#define MASTER_INCLUDE_DEPTH 8

struct master_rr {
	const uint8_t *owner; /* absolute wire name, case as written */
	size_t owner_len;
	uint16_t type;
	uint16_t klass;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
	uint16_t name_off[MASTER_MAX_NAMES]; /* domain names inside rdata */
	int n_names;
	const char *file; /* valid during the callback */
	int line;         /* first line of the entry */
};

/* Called for each record; a non-zero return stops reading and is returned. */
typedef int (*master_rr_fn)(void *arg, const struct master_rr *rr);

struct master_reader {
	master_rr_fn fn;
	void *arg;
	char **files;   /* the file read and every $INCLUDE (owned; master_cleanup) */
	size_t n_files;
	char *err;      /* "FILE:LINE: message" on failure */
	size_t errlen;
	int allow_include;
};

/* Reads the file (origin: absolute wire name) and calls fn per record.
 * Returns 0, or MX_ESYNTAX/MX_ELIMIT/-errno with err filled in. */
int master_read_file(struct master_reader *r, const char *file, const uint8_t *origin);
/* The same from memory; label names it in messages; $INCLUDE is refused. */
int master_read_text(struct master_reader *r, const char *text, size_t len, const char *label,
		     const uint8_t *origin);
void master_cleanup(struct master_reader *r);

#endif

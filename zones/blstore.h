/* blstore: the DNSBL listing database in LMDB.
 *
 * One environment (a single file, MDB_NOSUBDIR) holds two databases:
 *   "meta":    "schema" -> u32 version; "list:NAME" -> struct blstore_list
 *              record; "id:ID" -> NAME (so ids are unique); "plen:ID" ->
 *              struct blstore_plens (schema 2), the prefix lengths used;
 *              "filt:ID" + one byte O -> BLFILT_CHUNK bytes (schema 3),
 *              the chunk of /8 O of the list's /24 filter (blfilt.h).
 *              ID is the list id as 4 bytes, big-endian.
 *              "str:" + a 32-bit hash (schema 5; 64-bit in schema 4) ->
 *              a reason or source text that values refer to
 *              (blstore_val_compact).
 *              "fast:ID" + one byte O -> the record of /8 O of the
 *              list's answer index (schema 6, blfast.h).
 *   "entries": blkey keys (list id, type, address/prefix or domain) ->
 *              blval values (codes, reason, times, source).
 * The daemon opens it read-only; mxdns bl is the one writer. Every change
 * (an add, a whole import, a list replacement) is one write transaction,
 * so readers see the old or the new state, never a mix.
 *
 * Values (blval), compact and versioned. Version 2 (schema 5), written:
 *   [2][flags][n_codes] codes [listed_at] [expires if BLVAL_EXPIRES]
 *   [reason] [source if BLVAL_SOURCE]
 * codes: n_codes*[d] for 127.0.0.d when BLVAL_LOW_CODES, else n_codes*[a.b.c.d];
 * times: u64 BE when BLVAL_TIME64, else u32 BE (Unix seconds to 2106);
 * reason: a 4-byte reference when BLVAL_REASON_REF, else [len: u16 BE][text];
 * source: a 4-byte reference when BLVAL_SOURCE_REF, else [len: u8][text].
 * A million-entry list with one reason is 16 bytes of value an entry, where
 * version 1 took 34: a third fewer LMDB pages to hold in memory or cache.
 * Version 1 (schema 4 and before), still read:
 *   [1][flags][n_codes] n_codes*[a.b.c.d] [listed_at: u64 BE]
 *   [expires: u64 BE if BLVAL_EXPIRES] [reason_len: u16 BE][reason]
 *   [source_len: u8][source] if BLVAL_SOURCE
 * with references 8 bytes long, held in the length-prefixed fields.
 * The reason is rbldnsd's TXT template: "$" is the queried address or
 * name, "$$" a literal dollar sign. */
#ifndef MXDNS_BLSTORE_H
#define MXDNS_BLSTORE_H

#include "blfilt.h"
#include "blkey.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* Schema 2 added the "plen:ID" records, schema 3 the "filt:ID" filters,
 * schema 4 the "str:" texts (a list's million entries share a reason and
 * a source: stored once, the entries are half the size), schema 5 the
 * version 2 values (a third smaller again), schema 6 the "fast:" answer
 * index.
 * An older database is still read as it is (schema 1: every prefix length
 * is probed; below 3: no filter, every IPv4 lookup walks the B-tree); a
 * writer upgrades it in place when it opens it (one transaction: the new
 * records of every list, then the version), so that writers that do not
 * keep the records (older mxdns) refuse it from then on. Older mxdnsd
 * refuse it too: upgrade the daemon before the tool. Values keep the
 * version they were written in until an import rewrites them. */
#define BLSTORE_SCHEMA 6
#define BLVAL_VERSION 2

enum {
	BLVAL_EXCLUDE = 1 << 0, /* "!" entry: carves its prefix/name out */
	BLVAL_EXPIRES = 1 << 1,
	BLVAL_SOURCE = 1 << 2,
	/* The reason (source) field holds the reference (hash) of a "str:"
	 * record instead of the text: blstore_val_strings resolves it. */
	BLVAL_REASON_REF = 1 << 3,
	BLVAL_SOURCE_REF = 1 << 4,
	/* How a version 2 value is encoded; blval_encode chooses them and
	 * blval_decode clears them, so a struct blval never carries them. */
	BLVAL_LOW_CODES = 1 << 5,
	BLVAL_TIME64 = 1 << 6,
};
/* A reference: the text's 32-bit hash (version 1 values: 64-bit). */
#define BLVAL_REF_LEN 4
#define BLVAL_REF_LEN_V1 8

#define BLVAL_MAX_CODES 8
#define BLVAL_MAX (3 + BLVAL_MAX_CODES * 4 + 16 + 2 + 65535 + 1 + 255)

struct blval {
	uint8_t flags;
	uint8_t n_codes;
	uint8_t codes[BLVAL_MAX_CODES][4];
	uint64_t listed_at, expires; /* Unix seconds; expires 0 = never */
	const char *reason;          /* not NUL-terminated; may point into the map */
	uint16_t reason_len;
	const char *source;
	uint8_t source_len;
};

/* Encodes v into out (cap bytes), as version 2. Returns the length,
 * MX_ESPACE, or MX_EMALFORMED for a reference not BLVAL_REF_LEN long (a
 * version 1 value's: resolve it first). */
int blval_encode(const struct blval *v, uint8_t *out, size_t cap);
/* Decodes either version; reason/source point into buf (a reference:
 * its bytes, reason_len or source_len its length). Returns 0 or
 * MX_EMALFORMED. */
int blval_decode(const uint8_t *buf, size_t len, struct blval *v);

enum { BLSTORE_RDONLY = 1, BLSTORE_CREATE = 2 };

struct blstore {
	MDB_env *env;
	MDB_dbi meta, entries;
	int flags;
	uint32_t schema; /* as found on open (1..5; a writer upgrades to 5) */
	char *path;
};

/* Opens the database at path. BLSTORE_RDONLY (the daemon): MDB_RDONLY |
 * MDB_NOTLS, a large virtual map so a growing file rarely needs a remap.
 * Otherwise read-write (the tool), creating the file and its schema record
 * with BLSTORE_CREATE. Refuses a schema newer than ours (MX_ESCHEMA); an
 * older one a read-only opener reads as it is and a writer upgrades to
 * ours (one transaction: the prefix-length records if schema 1, the
 * filters, then the version).
 * Errors: MX_EDB, MX_ESCHEMA, -errno; err names the path. The environment
 * variable MXDNS_BLSTORE_MAPSIZE (bytes) sets a writer's initial map, and
 * MXDNS_BLSTORE_READER_MAPSIZE a reader's, for tests. */
int blstore_open(const char *path, int flags, struct blstore **out, char *err, size_t errlen);
void blstore_close(struct blstore *s);

/* A list's record in meta. */
struct blstore_list {
	uint32_t id;
	uint32_t ttl;     /* from an imported $TTL; 0 = the zone's */
	uint64_t created; /* Unix seconds */
};

/* Looks up a list by name in txn. Returns 0, MX_ENOTFOUND, MX_EDB. */
int blstore_list_get(MDB_txn *txn, const struct blstore *s, const char *name,
		     struct blstore_list *out);
/* Creates the list if absent (write txn). Refuses (MX_EEXIST) a name whose
 * id collides with another list's. */
int blstore_list_ensure(MDB_txn *txn, const struct blstore *s, const char *name,
			struct blstore_list *out);
/* Updates a list record (ttl). */
int blstore_list_put(MDB_txn *txn, const struct blstore *s, const char *name,
		     const struct blstore_list *l);
/* Calls fn for each list (name, record). */
int blstore_list_each(MDB_txn *txn, const struct blstore *s,
		      int (*fn)(void *arg, const char *name, const struct blstore_list *l),
		      void *arg);
/* Deletes every entry of list id, its prefix-length record and its filter
 * (write txn); *n_deleted counts the entries. */
int blstore_list_clear(MDB_txn *txn, const struct blstore *s, uint32_t id, size_t *n_deleted);

/* Which prefix lengths a list's address entries use: bit p of ip4 (p
 * 0..32) or of ip6[p / 64] (p 0..128) is set when some entry of that
 * family is p bits long. Every writer of entries merges the lengths it
 * writes, in the same transaction (blstore_plens_merge); deletes leave
 * the bits, so the record is a superset of the lengths present, which
 * costs a lookup at most a wasted probe, never a wrong answer.
 * A lookup probes only these lengths: for a list of /32s and /24s an
 * unlisted address is mostly one cursor seek (blstore_match_ip). */
struct blstore_plens {
	uint64_t ip4;
	uint64_t ip6[3];
};

/* Every length (what a schema 1 database must assume). */
void blstore_plens_all(struct blstore_plens *p);
/* Adds the length of an entry key (IPv4/IPv6; others are ignored). */
void blstore_plens_note(struct blstore_plens *p, const uint8_t *key, size_t len);
/* The record of list id: all lengths on a schema 1 database, none when
 * the list has no record. Returns 0 or MX_EDB. */
int blstore_plens_get(MDB_txn *txn, const struct blstore *s, uint32_t id,
		      struct blstore_plens *out);
/* ORs add into the record of list id (write txn). */
int blstore_plens_merge(MDB_txn *txn, const struct blstore *s, uint32_t id,
			const struct blstore_plens *add);

/* The /24 filter of an IPv4 list (schema 3, see blfilt.h). Every writer
 * of positive IPv4 entries ORs their /24s into the list's filter in the
 * same transaction, so a reader always sees entries and filter that
 * belong together; deletes leave the bits (a superset: at most a wasted
 * lookup); a whole-list rewrite and `mxdns bl prune` rebuild it.
 * IPv6 and domain lists have none: they are a small part of the traffic,
 * and a useful IPv6 filter (per /32 or /48) is another design. */

/* Replaces a decoded value's text references (BLVAL_*_REF) by the texts,
 * which then point into the map (valid while txn lives). Returns 0,
 * MX_EMALFORMED (a reference to no text) or MX_EDB. */
int blstore_val_strings(MDB_txn *txn, const struct blstore *s, struct blval *v);

/* The texts a write transaction has stored or found already, so that an
 * import of a million entries with one reason looks it up once, and the
 * last reason and source it saw. Zeroed before the transaction's first
 * blstore_val_compact. */
#define BLSTORE_STRS_KNOWN 8
struct blstore_strs {
	uint32_t hash[BLSTORE_STRS_KNOWN];
	int n, next; /* remembered, and the slot the next one replaces */
	uint32_t last[2];
};

/* Re-encodes the value in (as blval_encode wrote it) into out with its
 * reason and source, when longer than a reference and shared, stored once
 * in "str:" records (write txn) and referred to by hash. Shared: a record
 * holds the text already, or the transaction wrote the same text for the
 * entry before. A text used once stays inline, so that one-off reasons
 * (`mxdns bl add --reason` with a time in it, day after day) never pile up
 * as records no entry uses; the records are not collected. A text whose
 * hash another text has stays inline too. Returns the new length (never
 * more than len), MX_EMALFORMED or MX_EDB. */
int blstore_val_compact(MDB_txn *txn, const struct blstore *s, struct blstore_strs *known,
			const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* The schema version recorded in txn's snapshot (a running daemon learns
 * of an upgrade this way). Returns 0, MX_ENOTFOUND (no record),
 * MX_ESCHEMA (a malformed one) or MX_EDB. */
int blstore_schema_get(MDB_txn *txn, const struct blstore *s, uint32_t *ver);
/* The chunk of /8 octet of list id's filter: *chunk points into the map
 * (valid while txn reads that snapshot), NULL when there is no record
 * (nothing listed in that /8). Returns 0, MX_EMALFORMED (a record of the
 * wrong size) or MX_EDB. Only meaningful on a schema 3 or later snapshot. */
int blstore_filt_chunk(MDB_txn *txn, const struct blstore *s, uint32_t id, int octet,
		       const uint8_t **chunk);
/* Adds an entry (key, value as stored) to f if it is a positive IPv4
 * entry; others are ignored. Returns 0 or -ENOMEM. */
int blstore_filt_note(struct blfilt *f, const uint8_t *key, size_t klen, const uint8_t *val,
		      size_t vlen);
/* ORs f into list id's filter (write txn), writing each chunk of f once
 * and only when it gains bits. f's chunks hold the union afterwards. A
 * stored chunk that cannot be read makes it rebuild the list's filter from
 * its entries instead, so call it after writing the entries. */
int blstore_filt_merge(MDB_txn *txn, const struct blstore *s, uint32_t id, struct blfilt *f);
/* Rebuilds list id's filter from its entries (write txn): exact again
 * after deletes. Writes only the chunks that change. */
int blstore_filt_rebuild(MDB_txn *txn, const struct blstore *s, uint32_t id);

/* The answer index of an IPv4 list (schema 6, see blfast.h). Unlike the
 * filter it is exact: every writer of a list's IPv4 entries, deletes
 * included, rebuilds the record of every /8 it changed, in the same
 * transaction, after writing the entries (blstore_fast_touch collects
 * them, blstore_fast_rebuild writes them).
 *
 * blstore_fast_touch marks in octets (a 256-bit set) the /8s an IPv4
 * entry key spans; other keys are ignored. */
void blstore_fast_touch(uint8_t octets[32], const uint8_t *key, size_t klen);
/* Rebuilds, from the entries, the records of list id for the /8s set in
 * octets (write txn); a /8 with nothing listed loses its record. Returns
 * 0, MX_EMALFORMED (an entry's value), -ENOMEM or an LMDB error. */
int blstore_fast_rebuild(MDB_txn *txn, const struct blstore *s, uint32_t id,
			 const uint8_t octets[32]);
/* The record of /8 octet of list id: *rec points into the map (valid
 * while txn reads that snapshot), NULL when there is none (nothing listed
 * there, or a database before schema 6). Returns 0, MX_EMALFORMED (a
 * record blfast_valid refuses) or MX_EDB. */
int blstore_fast_get(MDB_txn *txn, const struct blstore *s, uint32_t id, int octet,
		     const uint8_t **rec);

/* The outcome of matching one key. */
enum blmatch { BLM_NONE = 0, BLM_LISTED, BLM_EXCLUDED };

struct blstore_hit {
	enum blmatch what;
	struct blval val;  /* valid until the txn ends */
	const uint8_t *key; /* the matching entry's key (in the map) */
	size_t key_len;
};

/* Longest-prefix match of an address (type BLKEY_IP4 or _IP6) among the
 * entries of list id whose prefix length is <= maxplen, skipping entries
 * expired at now (now 0: skip none). plens: the list's lengths
 * (blstore_plens_get), or NULL to probe every length. A few cursor seeks:
 * see blstore.c. Returns 0 (hit->what says what matched) or
 * MX_EDB/MX_EMALFORMED. */
int blstore_match_ip(MDB_cursor *c, uint32_t id, int type, const uint8_t *addr, int maxplen,
		     const struct blstore_plens *plens, uint64_t now, struct blstore_hit *hit);
/* Whether any entry of list id lies within the prefix (addr, plen) or
 * covers it: the name of a partial address exists (RFC 8020). plens as
 * for blstore_match_ip. */
int blstore_ip_exists(MDB_cursor *c, uint32_t id, int type, const uint8_t *addr, int plen,
		      const struct blstore_plens *plens, uint64_t now, int *exists);
/* Domain match: the exact name, else the deepest "*." wildcard above it.
 * wire: lowercased wire name. */
int blstore_match_domain(MDB_cursor *c, uint32_t id, const uint8_t *wire, uint64_t now,
			 struct blstore_hit *hit);
/* Whether any entry lies strictly below the name (RFC 8020 NODATA). */
int blstore_domain_below(MDB_cursor *c, uint32_t id, const uint8_t *wire, int *exists);

/* Write side: runs fn(txn, arg) in one write transaction and commits.
 * When the map is full (MDB_MAP_FULL) the transaction is aborted, the map
 * doubled, and fn run again from the start; committed data is never lost.
 * fn returns 0 to commit or an error code to abort. */
int blstore_write(struct blstore *s, int (*fn)(MDB_txn *txn, void *arg), void *arg, char *err,
		  size_t errlen);

/* The order of the entries database: exactly LMDB's default (memcmp, then
 * the shorter key first), so every tool (mdb_dump, mdb_stat, older mxdns)
 * agrees on it, computed 8 bytes at a time without a call to memcmp: a
 * lookup makes some twenty comparisons (root, branch and leaf pages).
 * blstore_open installs it, for a read-only environment with prefetches
 * of the pages LMDB's descent is about to read; anything opening the
 * entries DBI itself may, but need not. */
int blstore_keycmp(const MDB_val *a, const MDB_val *b);

/* Maps an LMDB return code to ours (MDB_NOTFOUND -> MX_ENOTFOUND, others
 * -> MX_EDB unless it is an errno). */
int blstore_err(int rc);

#endif

/* zone: one authoritative zone, compiled from an RFC 1035 master file into
 * an immutable structure built for answering.
 *
 * zones/master reads the file; the compiler then turns every RRset into the bytes
 * the answer writer copies into a response: each RR as
 *   [owner: 2-byte placeholder][type class ttl rdlength rdata]
 * with names in rdata written either in full or, for the RFC 1035 types
 * whose rdata may be compressed (RFC 3597 §4), as their labels below the
 * apex followed by a pointer placeholder that the writer patches with the
 * position of the apex in the query name. So an answer is a memcpy plus a
 * few 16-bit patches, with no name compression search per query.
 *
 * A zone is shared read-only by all worker threads and reference counted
 * between zone database snapshots (see zonedb.h). */
#ifndef MXDNS_ZONE_H
#define MXDNS_ZONE_H

#include "name.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum {
	RR_A = 1, RR_NS = 2, RR_CNAME = 5, RR_SOA = 6, RR_PTR = 12, RR_HINFO = 13, RR_MX = 15,
	RR_TXT = 16, RR_AAAA = 28, RR_SRV = 33, RR_DNAME = 39, RR_OPT = 41, RR_DS = 43,
	RR_IPSECKEY = 45, RR_RRSIG = 46, RR_NSEC = 47, RR_DNSKEY = 48, RR_TLSA = 52, RR_SVCB = 64,
	RR_HTTPS = 65, RR_IXFR = 251, RR_AXFR = 252, RR_MAILB = 253, RR_MAILA = 254, RR_ANY = 255, RR_CAA = 257,
};
enum { CLASS_IN = 1, CLASS_CH = 3, CLASS_ANY = 255 };

/* One additional-section target: the in-zone node whose A/AAAA follow an
 * MX, SRV or NS RR, and where its name starts inside the rendered RRset
 * (so the additional RRs' owner is a pointer to it). The target's A and
 * AAAA RRs as rendered are copied behind the RRset's bytes when the zone
 * is compiled (up to a few KB; past that wire points at the target's
 * own), so the answer path reads one block, not the target's RRsets. */
struct zone_additional {
	const uint8_t *wire[2]; /* A, AAAA as rendered (a copy, see above) */
	uint32_t wire_len[2];
	uint16_t count[2];      /* 0: the target has no such RRset */
	const struct zone_node *node; /* compile time only */
	uint16_t name_off; /* offset in zone_rrset.wire of the rdata name */
	uint8_t in_owner;  /* the target is at or below the RRset's owner:
			    * glue when the RRset is a delegation's NS */
};

/* 64 bytes (the natural order padded it to 80), and arrays of them
 * cache-line aligned: the answer path reads one RRset per line. */
struct zone_rrset {
	uint16_t type;
	uint16_t count;     /* RRs */
	uint32_t ttl;
	uint8_t *wire;      /* rendered RRs, see above */
	uint16_t *owner_fix; /* offsets of the 2-byte owner placeholders (one per RR) */
	uint16_t *apex_fix;  /* offsets of rdata pointer placeholders to the apex */
	struct zone_additional *add; /* A/AAAA to add (MX, SRV, NS targets) */
	/* CNAME and DNAME: the target, lowercased, for following chains. */
	const uint8_t *target;
	uint32_t wire_len;
	uint16_t n_apex_fix;
	uint16_t n_add;
	uint16_t tail_len;  /* bytes of the add[] targets' A and AAAA after wire */
	uint8_t target_len;
};

enum {
	ZN_DELEG = 1 << 0,    /* NS below the apex: a zone cut */
	ZN_OCCLUDED = 1 << 1, /* below a zone cut (glue or occluded data) */
	ZN_WILDCARD = 1 << 2, /* the node's first label is '*' */
	ZN_DNAME = 1 << 3,    /* owns a DNAME */
	ZN_CNAME = 1 << 4,    /* owns a CNAME */
};

/* The types of the first ZONE_NODE_TYPES RRsets are kept in the node, so
 * finding an RRset reads the node's line and the RRset's, not every RRset
 * before it. 64 bytes, and the node array is cache-line aligned. */
#define ZONE_NODE_TYPES 12

struct zone_node {
	const uint8_t *name; /* lowercased wire name, full */
	struct zone_rrset *rrsets; /* sorted by type */
	const struct zone_node *wild; /* the "*." child, if any */
	const struct zone_node *cut;  /* the delegation at or above this node, if any */
	uint8_t name_len;
	uint8_t rel_len;   /* bytes of name above the apex (its labels below it) */
	uint8_t flags;
	uint8_t pad_;
	uint16_t n_rrsets;
	uint16_t types[ZONE_NODE_TYPES]; /* rrsets[i].type, i < ZONE_NODE_TYPES */
};

struct zone {
	_Atomic int refs;
	char *name;        /* presentation form with final dot */
	char *file;        /* NULL for zones built from text */
	uint8_t apex[NAME_MAXLEN]; /* lowercased wire form */
	uint8_t apex_len;
	uint8_t apex_labels;
	uint64_t stamp;    /* of the file and its includes, for reloads */
	char **files;      /* the file and its $INCLUDEs */
	size_t n_files;
	uint32_t serial;
	size_t n_records;

	struct zone_node *nodes; /* includes empty non-terminals */
	size_t n_nodes;
	/* Open addressing: (hash << 32) | (node index + 1), 0 = empty. The
	 * hash in the slot saves touching a node that does not match. Owned
	 * (bigmem, table_mask + 1 slots), not in the arena: it is the
	 * loader's table, grown while the file was read. */
	uint64_t *table;
	uint32_t table_mask;
	const struct zone_node *apex_node;
	const struct zone_rrset *soa;     /* with its own TTL, for SOA queries */
	struct zone_rrset soa_neg;        /* TTL = min(SOA TTL, MINIMUM), RFC 2308 §3 */
	const struct zone_rrset *apex_ns;

	/* The daemon's statistics slot for this zone name, set before the zone
	 * is first published (workers only read it); -1 until then. */
	int32_t stats_slot;
	struct dnsbl_zone *bl; /* set for DNSBL zones: the listing lookups */
	void *arena;           /* owns everything above but files and table */
};

/* Loads and compiles a zone from its master file. origin is the zone name.
 * On failure returns NULL and writes "FILE:LINE: message" into err. Warnings
 * (out-of-zone data ignored, etc.) are logged. */
struct zone *zone_load(const char *origin, const char *file, char *err, size_t errlen);

/* The same from master-file text in memory (DNSBL apex data, tests).
 * label names the source in messages. */
struct zone *zone_from_text(const char *origin, const char *text, const char *label, char *err,
			    size_t errlen);

/* Exact lookup of a lowercased wire name; NULL if absent. */
const struct zone_node *zone_find(const struct zone *z, const uint8_t *name, size_t len);
/* The RRset of a type at a node, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type);

/* Prefetching for a batch of lookups: one step per query, over the whole
 * batch, before any of them is answered, so that the cache misses of the
 * batch overlap instead of following one another. Each step only reads
 * what the previous one fetched and issues prefetches; none is needed for
 * a right answer.
 *
 * zone_prefetch_slot: name's hash (give it to the next step); fetches its
 * table slot. zone_prefetch_node: the node the slot points to (a
 * candidate: its name is not compared), fetched; NULL if none.
 * zone_prefetch_rrset: fetches a candidate's name and its RRset of type.
 * zone_prefetch_rdata: fetches the rendered RRs of that RRset, with the
 * copies of its additional A and AAAA. */
uint32_t zone_prefetch_slot(const struct zone *z, const uint8_t *name, size_t len);
const struct zone_node *zone_prefetch_node(const struct zone *z, uint32_t hash);
void zone_prefetch_rrset(const struct zone_node *n, uint16_t type);
void zone_prefetch_rdata(const struct zone_node *n, uint16_t type);

/* A fingerprint of the zone's file and its $INCLUDEs as they are on disk
 * now (mtime, size, inode); 0 when one cannot be read. */
uint64_t zone_file_stamp(const struct zone *z);

struct zone *zone_ref(struct zone *z);
void zone_unref(struct zone *z);

#endif

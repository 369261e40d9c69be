/* stats: the daemon's counters and their text, JSON and Prometheus forms.
 *
 * Each worker writes only its own block (cache-line aligned, so workers
 * never share a line): an increment is a relaxed load and store, no
 * locked instruction and no contention. Readers (the control thread) sum
 * the blocks with relaxed loads; a sum may be a few queries behind, never
 * torn. Per-zone counters are arrays indexed by a zone slot fixed at
 * start (the configured zones and the initial snapshot's, by name, up to
 * STATS_MAX_ZONES; the rest count in the last slot, "other"). */
#ifndef MXDNS_STATS_H
#define MXDNS_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATS_MAX_ZONES 4096
#define STATS_RCODES 17 /* 0..15, and 16 for BADVERS (RFC 6891 §9) */

enum stats_qtype {
	STATS_QT_A,
	STATS_QT_NS,
	STATS_QT_CNAME,
	STATS_QT_SOA,
	STATS_QT_PTR,
	STATS_QT_MX,
	STATS_QT_TXT,
	STATS_QT_AAAA,
	STATS_QT_SRV,
	STATS_QT_NAPTR,
	STATS_QT_DS,
	STATS_QT_DNSKEY,
	STATS_QT_TLSA,
	STATS_QT_SVCB,
	STATS_QT_HTTPS,
	STATS_QT_CAA,
	STATS_QT_ANY,
	STATS_QT_AXFR,
	STATS_QT_IXFR,
	STATS_QT_OTHER,
	STATS_QTYPES
};

enum stats_proto { STATS_UDP = 0, STATS_TCP = 1 };

typedef _Atomic uint64_t stats_counter;

/* What one worker counts (the same shape is summed into struct stats_sum). */
#define STATS_FIELDS(X)                                                                        \
	X(dropped)       /* no answer: malformed, QR set, oversized */                      \
	X(send_failed)   /* a UDP answer the kernel would not take */                       \
	X(udp_pauses)    /* coalescing pauses taken (udp-coalesce) */                       \
	X(truncated)     /* answers with TC=1 (not counting RRL slips) */                   \
	X(rrl_dropped)   /* RRL: limited and not sent */                                    \
	X(rrl_slipped)   /* RRL: limited and sent truncated */                              \
	X(tcp_accepted)                                                                     \
	X(tcp_refused)   /* closed at accept: over a connection limit */                    \
	X(tcp_timeouts)  /* closed by the idle or read timeout */                           \
	X(tcp_closed)    /* every counted connection that ended */

struct stats_worker {
	stats_counter queries[2]; /* by protocol */
	stats_counter rcode[STATS_RCODES];
	stats_counter qtype[STATS_QTYPES];
#define STATS_DECL(f) stats_counter f;
	STATS_FIELDS(STATS_DECL)
#undef STATS_DECL
	stats_counter *zone_queries; /* n_zones + 1 (other) */
	stats_counter *zone_hits;    /* DNSBL "listed" answers, same slots */
} __attribute__((aligned(64)));

struct stats {
	int n_workers;
	struct stats_worker *w;
	size_t n_zones;
	char **zone_names;   /* presentation form, with final dot */
	uint8_t **zone_apex; /* lowercased wire form */
	uint8_t *zone_apex_len;
	uint32_t *table;     /* name hash -> slot + 1 */
	uint32_t table_mask;
	_Atomic uint64_t reloads_ok, reloads_failed; /* written by the control thread */
};

struct stats_sum {
	uint64_t queries[2];
	uint64_t rcode[STATS_RCODES];
	uint64_t qtype[STATS_QTYPES];
#define STATS_DECL(f) uint64_t f;
	STATS_FIELDS(STATS_DECL)
#undef STATS_DECL
	uint64_t tcp_open;
	uint64_t reloads_ok, reloads_failed;
	size_t n_zones;
	uint64_t *zone_queries, *zone_hits; /* n_zones + 1 */
};

/* Counters for n_workers and the zones named (presentation form; bad or
 * repeated names are skipped; past STATS_MAX_ZONES they count as other).
 * 0 or -ENOMEM. */
int stats_new(struct stats **out, int n_workers, const char *const *zones, size_t n);
void stats_free(struct stats *s);

/* The slot of a zone by its lowercased wire apex: 0..n_zones-1, or
 * n_zones for a zone not known at start (and for apex NULL). */
size_t stats_zone_slot(const struct stats *s, const uint8_t *apex, size_t apex_len);

/* The index of a query type in qtype[]. */
enum stats_qtype stats_qtype_index(uint16_t qtype);
const char *stats_qtype_name(enum stats_qtype i);
/* "NOERROR" .. "BADVERS", or NULL for unassigned codes (shown by number). */
const char *stats_rcode_name(unsigned rcode);

/* Worker side: only the owning worker writes its block. */
static inline void stats_inc(stats_counter *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void stats_add(stats_counter *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* One answer sent (or limited): rcode 0..16, zone slot from
 * stats_zone_slot, hit: a DNSBL zone said "listed". */
void stats_count_answer(const struct stats *s, struct stats_worker *w, uint16_t qtype,
			unsigned rcode, size_t zone_slot, int hit);

/* Sums every worker's block into out (allocates the zone arrays; free
 * with stats_sum_cleanup). 0 or -ENOMEM. */
int stats_sum(const struct stats *s, struct stats_sum *out);
void stats_sum_cleanup(struct stats_sum *sum);

/* "key: value" lines (the format of mxdns ctl stats). */
void stats_format_text(const struct stats *s, const struct stats_sum *sum, FILE *out);
/* One JSON object over several lines (no line longer than a zone name
 * and a few numbers, for the line-based control protocol). */
void stats_format_json(const struct stats *s, const struct stats_sum *sum, FILE *out);
/* Prometheus text exposition format 0.0.4. */
void stats_format_prometheus(const struct stats *s, const struct stats_sum *sum, FILE *out);

#endif

/* answer: the protocol core. One query packet in, one response packet out,
 * against a zone database snapshot. No sockets, clocks or globals: the
 * caller passes the time, the client and the worker's DNSBL readers in the
 * context, so every rule is testable with byte arrays. Allocates nothing. */
#ifndef MXDNS_ANSWER_H
#define MXDNS_ANSWER_H

#include "dnsbl.h"
#include "query.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct zonedb;
struct zone;
struct dnsbl_readers;

/* Server-wide answering options (from the configuration). */
struct answer_opts {
	uint16_t udp_size;    /* the server's EDNS UDP limit (default 1232) */
	const char *version;  /* CHAOS version.bind / version.server; NULL = REFUSED */
	const char *identity; /* CHAOS id.server / hostname.bind; NULL = REFUSED */
};

enum answer_proto { ANSWER_UDP = 0, ANSWER_TCP = 1 };

struct answer_ctx {
	/* In. */
	const struct answer_opts *opts;
	enum answer_proto proto;
	const struct sockaddr *client; /* for DNSBL ACLs and RRL; may be NULL */
	uint64_t now;                  /* unix time, seconds (DNSBL expiry) */
	struct dnsbl_readers *bl;      /* the worker's LMDB readers; may be NULL */
	/* Out, for statistics and logging. */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t rcode;       /* the low 4 bits, or 16 for BADVERS */
	uint8_t truncated;
	uint8_t edns;
	const struct zone *zone; /* the zone answered from, if any */
	int dnsbl_hit;           /* 1: a DNSBL zone answered "listed" */
};

/* Answers the query in q[0..qlen) into out[0..cap) and returns the
 * response length, or 0 when the packet must be dropped (QR set, or too
 * short to hold a header). cap must be at least 512; over UDP the response
 * is limited to the size the client's EDNS allows (512 without EDNS). */
size_t answer_build(const uint8_t *q, size_t qlen, const struct zonedb *db, struct answer_ctx *ctx,
		    uint8_t *out, size_t cap);

/* The same in steps, for a batch of queries: answer_pre_parse each query,
 * then answer_prefetch ANSWER_PREFETCH_STEPS times for each (over the whole
 * batch, or in answer_pipeline's order below), then answer_pre_build
 * each. The prefetch steps only warm the cache, so
 * that the batch's cache misses overlap (zone.h); they change no answer.
 * db must be the same snapshot in every step, and bl the readers the
 * answers will use (answer_ctx). The query bytes are borrowed
 * until answer_pre_build returns. */
struct answer_pre {
	struct query q;
	int rc;                        /* query_parse's result */
	const struct zone *z;          /* the zone the question is in, if IN */
	const struct zone_node *node;  /* its candidate node */
	uint32_t hash;
	uint8_t step;                  /* prefetch steps done */
	uint8_t n_warm;                /* a DNSBL name: addresses for the next step */
	const void *warm[DNSBL_WARM_MAX];
	struct dnsbl_name bn;          /* set when z is a DNSBL zone and the name is
					* below its apex; points into q.lname, so an
					* answer_pre is not to be copied */
};

#define ANSWER_PREFETCH_STEPS 4

void answer_pre_parse(struct answer_pre *a, const uint8_t *q, size_t qlen, const struct zonedb *db);
void answer_prefetch(struct answer_pre *a, struct dnsbl_readers *bl);

/* The steps of a parsed batch pre[0..n) in the order that hides the most:
 * for t = 0, 1, ... call answer_pipeline(pre, n, t, bl) until it returns
 * ANSWER_PIPELINE_END; it issues the prefetch steps due at t and returns
 * the query whose answer to build now, or -1 for none yet. A query's
 * steps come ANSWER_PREFETCH_DIST queries apart and its answer last, so
 * the misses of the queries after it are in flight while its answer is
 * written, rather than all of the batch's misses first and all of its
 * answers after (3-11 % less time per answer on the 1M-record zone,
 * tests/bench/answerloop; one query apart did better than two or four).
 * A batch of one is answered without prefetching. */
#define ANSWER_PREFETCH_DIST 1
#define ANSWER_PIPELINE_END (-2)
int answer_pipeline(struct answer_pre *pre, int n, int t, struct dnsbl_readers *bl);
size_t answer_pre_build(struct answer_pre *a, const struct zonedb *db, struct answer_ctx *ctx,
			uint8_t *out, size_t cap);

#endif

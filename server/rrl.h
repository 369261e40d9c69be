/* rrl: response rate limiting, as in BIND, NSD and Knot, so that spoofed
 * queries cannot turn the server into an amplifier.
 *
 * A response is charged to a bucket keyed by the client's network (the
 * address cut to a prefix, /24 and /56 by default) and the response's
 * class and token: a positive answer by its qname and qtype, NXDOMAIN and
 * NODATA by zone, a referral by the delegation, errors all together. Each
 * bucket earns `rate` tokens a second (at most `rate` saved up); a response
 * costs one. Without a token the response is limited: dropped, except that
 * every `slip`-th limited response goes out truncated (TC=1, no records)
 * so that a real client behind the prefix retries over TCP, which cannot
 * be spoofed. Only UDP answers are limited.
 *
 * The table is one array shared by all workers. Each bucket is one 64-bit
 * word (tag, second, balance) updated with a relaxed compare-and-swap, so
 * the query path takes no lock and the limit is exact whatever worker the
 * kernel's SO_REUSEPORT hash picks (it hashes the source port too, so one
 * resolver's queries, and a spoofed flood, reach every worker). The
 * buckets are allocated once at start; a full table evicts the oldest
 * bucket of a 4-way set, which can only make the limit more lenient. */
#ifndef MXDNS_RRL_H
#define MXDNS_RRL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "name.h"

#define RRL_DEFAULT_SIZE 1000000
#define RRL_DEFAULT_SLIP 2
#define RRL_DEFAULT_WINDOW 1

struct rrl_config {
	uint32_t slip;      /* 0: drop every limited response; N: every Nth is truncated */
	uint8_t v4_prefix;  /* 0..32, default 24 */
	uint8_t v6_prefix;  /* 0..128, default 56 */
	uint32_t window;    /* seconds a flooding source stays limited after it slows (>= 1) */
	size_t size;        /* buckets (rounded up to a power of two) */
};

enum rrl_class {
	RRL_POSITIVE = 1, /* NOERROR with answers: token qname + qtype */
	RRL_NXDOMAIN,     /* token: the zone */
	RRL_NODATA,       /* NOERROR, empty answer: the zone */
	RRL_REFERRAL,     /* token: the delegation point */
	RRL_ERROR,        /* REFUSED, FORMERR, SERVFAIL, ...: no token */
};

struct rrl_token {
	enum rrl_class cls;
	uint16_t qtype;
	uint8_t name_len;
	uint8_t name[NAME_MAXLEN]; /* lowercased wire form */
};

enum rrl_verdict { RRL_PASS = 0, RRL_DROP, RRL_SLIP };

struct rrl;

/* Allocates the table. seed keys the hash (pass random bits: a client
 * must not be able to aim at one bucket set). 0, -ENOMEM or MX_EINVAL. */
int rrl_new(struct rrl **out, const struct rrl_config *cfg, uint64_t seed);
void rrl_free(struct rrl *r);

/* The class and token of a response (resp[0..len)). apex is the wire name
 * of the zone answered from (NULL if none). Returns 0, or MX_ESYNTAX for a
 * response it cannot read (then treat it as RRL_ERROR). Pure. */
int rrl_classify(const uint8_t *resp, size_t len, const uint8_t *apex, size_t apex_len,
		 struct rrl_token *out);

/* Charges one response to client's bucket for token at time now
 * (seconds, any monotonic origin) with the given rate (> 0).
 * *slip_count is the caller's (per worker) count of limited responses,
 * which decides the slips. */
enum rrl_verdict rrl_check(struct rrl *r, const struct sockaddr *client,
			   const struct rrl_token *token, uint32_t rate, uint32_t now,
			   uint32_t *slip_count);

/* Rewrites the response in place into its truncated form: header and
 * question, TC=1, no records (RFC 1035 §4.1.1; resolvers retry over TCP).
 * Returns the new length, or 0 if the response cannot be read. */
size_t rrl_truncate(uint8_t *resp, size_t len);

#endif

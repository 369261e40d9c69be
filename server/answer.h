/* answer: the protocol core. One query packet in, one response packet out,
 * against a zone database snapshot. No sockets, clocks or globals: the
 * caller passes the time, the client and the worker's DNSBL readers in the
 * context, so every rule is testable with byte arrays. Allocates nothing. */
#ifndef MXDNS_ANSWER_H
#define MXDNS_ANSWER_H

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

#endif

/* dnsq: the few DNS lookups the tool makes (a DKIM key, a DMARC policy...),
 * through ldns's stub resolver: the system's (/etc/resolv.conf) or one
 * server given as ADDR or ADDR@PORT (any loopback port, for tests and for
 * asking mxdnsd directly). Not for the daemon's hot path. */
#ifndef MXDNS_DNSQ_H
#define MXDNS_DNSQ_H

#include <stddef.h>

struct dnsq {
	void *res; /* ldns_resolver */
	char err[400];
};

struct dnsq_answer {
	int rcode;       /* the response's RCODE (0 NOERROR, 3 NXDOMAIN...) */
	size_t count;    /* answer RRs of the asked type */
	char **rdata;    /* each RR's rdata in presentation format */
	char **txt;      /* TXT only: each RR's strings concatenated (RFC 6376 §3.6.2.2) */
	size_t *txt_len; /* their lengths (a TXT value may hold NUL bytes) */
};

/* server: NULL for the system resolver, else "ADDR" or "ADDR@PORT"
 * (IPv4 or IPv6 literal). Returns 0, MX_EINVAL (bad server text, q->err
 * says why) or MX_ENOTFOUND (no usable resolv.conf). */
int dnsq_init(struct dnsq *q, const char *server);
void dnsq_cleanup(struct dnsq *q);

/* Looks name (absolute or not; taken as absolute) up for type ("TXT",
 * "MX", ...). On 0, ans->count >= 1. Returns MX_ENOTFOUND for NXDOMAIN or
 * no data of that type, MX_EREFUSED for any other error RCODE, -ETIMEDOUT
 * when no server answered, MX_EINVAL for a bad name or type; q->err says
 * what happened in words. ans must be cleaned up in every case. */
int dnsq_lookup(struct dnsq *q, const char *name, const char *type, struct dnsq_answer *ans);
void dnsq_answer_cleanup(struct dnsq_answer *ans);

#endif

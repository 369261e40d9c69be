/* spfdns: the SPF engine's resolver (struct spf_resolver) on top of dnsq,
 * i.e. ldns's stub resolver against the system's resolver or one server
 * given as ADDR@PORT. The tool uses it; tests use mocks. */
#ifndef MXDNS_SPFDNS_H
#define MXDNS_SPFDNS_H

#include "dnsq.h"
#include "spf.h"

struct spfdns {
	struct dnsq q;
};

/* server: NULL for the system resolver, else "ADDR" or "ADDR@PORT".
 * Returns 0 or dnsq_init's codes; d->q.err says why. */
int spfdns_init(struct spfdns *d, const char *server);
void spfdns_cleanup(struct spfdns *d);
/* Fill res with callbacks on d (which must outlive res). */
void spfdns_resolver(struct spfdns *d, struct spf_resolver *res);

#endif

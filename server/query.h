/* query: parsing a DNS query's header, question and EDNS OPT record.
 * A pure function over untrusted bytes that allocates nothing. */
#ifndef MXDNS_QUERY_H
#define MXDNS_QUERY_H

#include "name.h"

#include <stddef.h>
#include <stdint.h>

enum {
	RCODE_NOERROR = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3,
	RCODE_NOTIMP = 4, RCODE_REFUSED = 5, RCODE_YXDOMAIN = 6, RCODE_NOTAUTH = 9,
	RCODE_BADVERS = 16,
};

#define QUERY_DROP (-1)

struct query {
	uint16_t id;
	uint8_t opcode;
	uint8_t rd, cd;
	int have_question;       /* qname/qtype/qclass are valid */
	const uint8_t *qname;    /* the question's name as sent (case kept) */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	int edns;                /* an OPT record was present (and valid) */
	uint16_t edns_size;      /* requester's UDP payload size */
	uint8_t edns_version;
	int edns_do;
	int n_labels;            /* not counting the root */
	/* Large buffers last: parsing clears only what precedes them. */
	uint8_t lname[NAME_MAXLEN]; /* lowercased */
	uint8_t label_off[NAME_MAXLABELS + 1];
};

/* Parses pkt[0..len). Returns 0 for a query to answer, QUERY_DROP when no
 * response may be sent (shorter than a header, or QR set: RFC 1035 §4.1.1
 * says responses are not answered), or RCODE_FORMERR / RCODE_NOTIMP /
 * RCODE_BADVERS for an error response (q says how much was understood:
 * have_question, edns). */
int query_parse(const uint8_t *pkt, size_t len, struct query *q);

#endif

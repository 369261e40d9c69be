/* query: header, question and OPT parsing. */
#include "query.h"

#include "zone.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The question name may not use compression: nothing precedes it that a
 * pointer could refer to, so a pointer there is malformed. */
static int parse_qname(const uint8_t *pkt, size_t len, size_t *pos, struct query *q)
{
	size_t p = *pos, n = 0;
	q->n_labels = 0;
	for (;;) {
		if (p >= len)
			return -1;
		uint8_t c = pkt[p];
		if (c & 0xC0)
			return -1;
		if (n + 1 + c > NAME_MAXLEN || p + 1 + c > len)
			return -1;
		if (c == 0)
			break;
		q->label_off[q->n_labels++] = (uint8_t)n;
		p += 1 + (size_t)c;
		n += 1 + (size_t)c;
	}
	n++;
	q->qname = pkt + *pos;
	q->qname_len = (uint8_t)n;
	name_lower(q->lname, q->qname, n);
	*pos = p + 1;
	return 0;
}

/* Skips a possibly compressed name in a non-question RR. */
static int skip_name(const uint8_t *pkt, size_t len, size_t *pos, int *is_root)
{
	size_t p = *pos;
	*is_root = p < len && pkt[p] == 0;
	for (int guard = 0; guard < 128; guard++) {
		if (p >= len)
			return -1;
		uint8_t c = pkt[p];
		if ((c & 0xC0) == 0xC0) {
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if (c & 0xC0)
			return -1;
		p += 1 + (size_t)c;
		if (c == 0) {
			*pos = p;
			return 0;
		}
	}
	return -1;
}

int query_parse(const uint8_t *pkt, size_t len, struct query *q)
{
	memset(q, 0, offsetof(struct query, lname));
	if (len < 12 || (pkt[2] & 0x80))
		return QUERY_DROP;
	q->id = get16(pkt);
	q->opcode = (pkt[2] >> 3) & 0x0F;
	q->rd = pkt[2] & 0x01;
	q->cd = (pkt[3] >> 4) & 0x01;
	uint16_t qd = get16(pkt + 4), an = get16(pkt + 6), ns = get16(pkt + 8),
		 ar = get16(pkt + 10);

	if (qd != 1)
		return q->opcode == 0 ? RCODE_FORMERR : RCODE_NOTIMP;
	size_t pos = 12;
	if (parse_qname(pkt, len, &pos, q) != 0 || pos + 4 > len)
		return RCODE_FORMERR;
	q->qtype = get16(pkt + pos);
	q->qclass = get16(pkt + pos + 2);
	pos += 4;
	q->have_question = 1;

	/* RFC 1035 §4.1: a query has no answer or authority records. */
	if (an != 0 || ns != 0)
		return q->opcode == 0 ? RCODE_FORMERR : RCODE_NOTIMP;
	for (uint16_t i = 0; i < ar; i++) {
		int root;
		if (skip_name(pkt, len, &pos, &root) != 0 || pos + 10 > len)
			return RCODE_FORMERR;
		uint16_t type = get16(pkt + pos), rdlen = get16(pkt + pos + 8);
		size_t rdata = pos + 10;
		if (rdata + rdlen > len)
			return RCODE_FORMERR;
		if (type == RR_OPT) {
			/* RFC 6891 §6.1.1: one OPT, owned by the root. */
			if (q->edns || !root)
				return RCODE_FORMERR;
			for (size_t o = rdata; o < rdata + rdlen;) {
				if (o + 4 > rdata + rdlen)
					return RCODE_FORMERR;
				size_t olen = get16(pkt + o + 2);
				if (o + 4 + olen > rdata + rdlen)
					return RCODE_FORMERR;
				o += 4 + olen; /* unknown options are ignored (§6.1.2) */
			}
			q->edns = 1;
			q->edns_size = get16(pkt + pos + 2);
			q->edns_version = pkt[pos + 5];
			q->edns_do = (pkt[pos + 6] & 0x80) != 0;
		}
		pos = rdata + rdlen;
	}
	if (q->opcode != 0)
		return RCODE_NOTIMP;
	if (q->edns && q->edns_version > 0)
		return RCODE_BADVERS;
	return 0;
}

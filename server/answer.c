/* answer: the RFC 1034 §4.3.2 algorithm over compiled zones, DNSBL zones,
 * CHAOS identity, and the response writer.
 *
 * Decide, then encode, in one pass: each step picks a pre-rendered RRset
 * and the writer copies it whole or not at all (no partial RRsets), so a
 * response that does not fit stops at an RRset boundary with TC set. Every
 * owner name is a compression pointer into the question (or to a name
 * already written), because every name we answer for is the query name,
 * one of its suffixes, or a name in rdata we wrote before it. */
#include "answer.h"

#include "dnsbl.h"
#include "query.h"
#include "zone.h"
#include "zonedb.h"

#include <string.h>

#define CHAIN_MAX 8    /* CNAME/DNAME links followed inside a zone */
#define OPT_RR_LEN 11  /* root owner, type, class, ttl, rdlength */
#define PTR_LIMIT 0x3FFF

struct pkt {
	uint8_t *buf;
	size_t len;
	size_t limit; /* where writing must stop (room for OPT kept) */
	uint16_t count[3];
	int tc;
	uint16_t apex_pos; /* position of the zone apex inside the question */
};

enum { SEC_AN = 0, SEC_NS = 1, SEC_AR = 2 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Copies the (possibly compressed) name at pos in the packet, uncompressed,
 * to the end: used only when a pointer to it would not fit in 14 bits. */
static int put_name_copy(struct pkt *p, size_t pos)
{
	size_t start = p->len;
	for (int guard = 0; guard < 128; guard++) {
		uint8_t c = p->buf[pos];
		if ((c & 0xC0) == 0xC0) {
			pos = ((size_t)(c & 0x3F) << 8) | p->buf[pos + 1];
			continue;
		}
		if (p->len + 1 + c > p->limit) {
			p->len = start;
			return -1;
		}
		memcpy(p->buf + p->len, p->buf + pos, 1 + (size_t)c);
		p->len += 1 + (size_t)c;
		if (c == 0)
			return 0;
		pos += 1 + (size_t)c;
	}
	p->len = start;
	return -1;
}

/* Position in the packet of the name that is the name at pos without its
 * first `skip` labels. */
static uint16_t name_suffix_pos(const struct pkt *p, size_t pos, int skip)
{
	while (skip > 0) {
		uint8_t c = p->buf[pos];
		if ((c & 0xC0) == 0xC0) {
			pos = ((size_t)(c & 0x3F) << 8) | p->buf[pos + 1];
			continue;
		}
		pos += 1 + (size_t)c;
		skip--;
	}
	while ((p->buf[pos] & 0xC0) == 0xC0) /* point at labels, not at a pointer */
		pos = ((size_t)(p->buf[pos] & 0x3F) << 8) | p->buf[pos + 1];
	return (uint16_t)pos;
}

/* Appends the rendered RRs wire[0..len) (count RRs, see zone.h), every RR
 * owned by the name at owner_pos, patching apex_fix[0..n_apex_fix).
 * Returns the packet position of the first byte as rendered (for
 * additional targets), or -1 when it does not fit (nothing written); -2
 * when it was written but its rdata names cannot be pointed to (responses
 * over 16 KiB). The RRs' owners are found by walking the RRs, not from a
 * table: the bytes are in the cache already, a table would be one more
 * miss. */
static long put_wire(struct pkt *p, const uint8_t *wire, uint32_t len, uint16_t count,
		     const uint16_t *apex_fix, uint16_t n_apex_fix, uint16_t owner_pos, int sec)
{
	size_t start = p->len;
	if (owner_pos <= PTR_LIMIT && start + len <= PTR_LIMIT) {
		if (start + len > p->limit)
			return -1;
		uint8_t *w = p->buf + start;
		memcpy(w, wire, len);
		uint16_t optr = (uint16_t)(0xC000 | owner_pos);
		for (size_t i = 0, at = 0; i < count; i++) {
			put16(w + at, optr);
			at += 12u + ((size_t)w[at + 10] << 8 | w[at + 11]);
		}
		uint16_t aptr = (uint16_t)(0xC000 | p->apex_pos);
		for (uint16_t i = 0; i < n_apex_fix; i++)
			put16(w + apex_fix[i], aptr);
		p->len += len;
		p->count[sec] += count;
		return (long)start;
	}
	/* Past 16 KiB (TCP only): owners written in full where a pointer
	 * cannot reach them. */
	for (size_t i = 0, seg = 2; i < count; i++) {
		size_t end = seg + 10u + ((size_t)wire[seg + 8] << 8 | wire[seg + 9]);
		if (owner_pos <= PTR_LIMIT) {
			if (p->len + 2 > p->limit)
				goto fail;
			put16(p->buf + p->len, (uint16_t)(0xC000 | owner_pos));
			p->len += 2;
		} else if (put_name_copy(p, owner_pos) != 0) {
			goto fail;
		}
		if (p->len + (end - seg) > p->limit)
			goto fail;
		size_t out = p->len;
		memcpy(p->buf + out, wire + seg, end - seg);
		for (uint16_t k = 0; k < n_apex_fix; k++)
			if (apex_fix[k] >= seg && apex_fix[k] < end)
				put16(p->buf + out + (apex_fix[k] - seg),
				      (uint16_t)(0xC000 | p->apex_pos));
		p->len += end - seg;
		seg = end + 2; /* past the next RR's owner placeholder */
	}
	p->count[sec] += count;
	return -2;
fail:
	p->len = start;
	return -1;
}

static long put_rrset(struct pkt *p, const struct zone_rrset *rs, uint16_t owner_pos, int sec)
{
	return put_wire(p, rs->wire, rs->wire_len, rs->count, rs->apex_fix, rs->n_apex_fix,
			owner_pos, sec);
}

/* A section's RRset: when it does not fit, the response is truncated
 * (RFC 2181 §9) and no later RRset is added. */
static long put_required(struct pkt *p, const struct zone_rrset *rs, uint16_t owner_pos, int sec)
{
	if (p->tc)
		return -1;
	long at = put_rrset(p, rs, owner_pos, sec);
	if (at == -1)
		p->tc = 1;
	return at;
}

/* A, then AAAA, of the in-zone targets of an MX, SRV or NS RRset written
 * at rs_pos. glue: these are referral glue inside the cut, which must not
 * be dropped silently (RFC 9471 §3). */
static void put_additional(struct pkt *p, const struct zone_rrset *rs, long rs_pos,
			   const struct zone_node *cut)
{
	if (rs_pos < 0)
		return;
	for (uint16_t i = 0; i < rs->n_add; i++) {
		const struct zone_additional *ad = &rs->add[i];
		uint16_t owner = (uint16_t)(rs_pos + ad->name_off);
		/* cut is rs's owner (its NS), so in_owner says "glue". */
		int glue = cut && ad->in_owner;
		for (int k = 0; k < 2; k++) {
			/* A and AAAA rdata hold no names: nothing to patch. */
			if (ad->count[k] &&
			    put_wire(p, ad->wire[k], ad->wire_len[k], ad->count[k], NULL, 0, owner,
				     SEC_AR) == -1) {
				if (glue)
					p->tc = 1;
				return;
			}
		}
	}
}

/* The referral for a name at or below the cut: AA=0 unless the answer
 * section already holds authoritative data (a CNAME chain into the cut). */
static void put_referral(struct pkt *p, const struct zone_node *cut, uint16_t cut_pos)
{
	const struct zone_rrset *ns = zone_node_rrset(cut, RR_NS);
	long at = put_required(p, ns, cut_pos, SEC_NS);
	put_additional(p, ns, at, cut);
}

struct lookup {
	const struct zone *z;
	uint8_t name[NAME_MAXLEN]; /* current name, lowercased */
	size_t len;
	uint16_t pos;              /* where it is in the packet */
	uint16_t qtype;
	enum answer_proto proto;
	int aa;
	int rcode;
	int answered;              /* answer section has authoritative data */
};

/* RFC 2308 §3: the zone's SOA lets a negative answer be cached; only an
 * authoritative one carries it (RFC 1034 §5.3.1: not under QCLASS *). */
static void put_negative_soa(struct pkt *p, const struct lookup *l)
{
	if (l->aa)
		put_required(p, &l->z->soa_neg, p->apex_pos, SEC_NS);
}

static int count_labels_between(const uint8_t *name, size_t len, size_t suffix_len)
{
	int k = 0;
	for (size_t p = 0; p + suffix_len < len; p += 1 + (size_t)name[p])
		k++;
	return k;
}

/* Answers at a node that exists (or at the wildcard that stands for the
 * name). Returns 1 when a CNAME was written and the chain goes on (l has
 * the target), 0 when done. */
static int answer_node(struct pkt *p, struct lookup *l, const struct zone_node *n)
{
	const struct zone_rrset *cname = (n->flags & ZN_CNAME) ? zone_node_rrset(n, RR_CNAME) : NULL;
	/* RFC 1034 §4.3.2 step 3a: ANY matches the CNAME itself. So does the
	 * RRSIG or NSEC that a signed zone keeps beside the CNAME (RFC 4035
	 * §2.5, the only types the loader lets share its node): they are the
	 * alias's own, as NSD and Knot answer them. */
	if (cname && l->qtype != RR_CNAME && l->qtype != RR_ANY && !zone_node_rrset(n, l->qtype)) {
		long at = put_required(p, cname, l->pos, SEC_AN);
		if (at < 0)
			return 0;
		l->answered = 1;
		/* The target is the CNAME's rdata, 12 bytes into the RR. */
		size_t tpos = (size_t)at + cname->owner_fix[0] + 12;
		if (tpos > PTR_LIMIT ||
		    !name_is_below_or_at(cname->target, cname->target_len, l->z->apex, l->z->apex_len))
			return 0;
		memcpy(l->name, cname->target, cname->target_len);
		l->len = cname->target_len;
		l->pos = (uint16_t)tpos;
		return 1;
	}
	if (l->qtype == RR_ANY && n->n_rrsets > 0) {
		/* RFC 8482 §4.1: over UDP one RRset stands for all; over TCP,
		 * where there is no amplification, all of them. */
		uint16_t m = l->proto == ANSWER_UDP ? 1 : n->n_rrsets;
		for (uint16_t i = 0; i < m; i++) {
			long at = put_required(p, &n->rrsets[i], l->pos, SEC_AN);
			if (at == -1)
				break;
			l->answered = 1;
		}
		return 0;
	}
	const struct zone_rrset *rs = zone_node_rrset(n, l->qtype);
	if (rs) {
		long at = put_required(p, rs, l->pos, SEC_AN);
		if (at != -1)
			l->answered = 1;
		if (rs->n_add)
			put_additional(p, rs, at, NULL);
		return 0;
	}
	/* NODATA (RFC 2308 §2.2), also at an empty non-terminal and at a
	 * wildcard without the type. */
	put_negative_soa(p, l);
	return 0;
}

/* RFC 6672 §2.2: the DNAME, then a CNAME from the name to the name with
 * the DNAME owner's suffix replaced by its target. */
static int answer_dname(struct pkt *p, struct lookup *l, const struct zone_node *ce)
{
	const struct zone_rrset *dn = zone_node_rrset(ce, RR_DNAME);
	int below = count_labels_between(l->name, l->len, ce->name_len);
	uint16_t ce_pos = name_suffix_pos(p, l->pos, below);
	size_t prefix = l->len - ce->name_len;
	long at = put_required(p, dn, ce_pos, SEC_AN);
	if (at < 0)
		return 0;
	l->answered = 1;
	if (prefix + dn->target_len > NAME_MAXLEN) {
		l->rcode = RCODE_YXDOMAIN; /* §2.2: the result would be too long */
		return 0;
	}
	size_t tpos = (size_t)at + dn->owner_fix[0] + 12;
	/* CNAME rdata: the prefix labels, then a pointer to the DNAME target. */
	size_t rdlen = prefix + (tpos <= PTR_LIMIT ? 2 : dn->target_len);
	if (p->tc || p->len + 12 + rdlen > p->limit || l->pos > PTR_LIMIT) {
		p->tc = 1;
		return 0;
	}
	uint8_t *w = p->buf + p->len;
	put16(w, (uint16_t)(0xC000 | l->pos));
	put16(w + 2, RR_CNAME);
	put16(w + 4, CLASS_IN);
	memcpy(w + 6, dn->wire + dn->owner_fix[0] + 6, 4); /* the DNAME's TTL */
	put16(w + 10, (uint16_t)rdlen);
	size_t cname_rdata = p->len + 12;
	/* The prefix as the client wrote it (its case), from the packet. */
	size_t src = l->pos;
	size_t o = 12;
	for (int i = 0; i < below; i++) {
		while ((p->buf[src] & 0xC0) == 0xC0)
			src = ((size_t)(p->buf[src] & 0x3F) << 8) | p->buf[src + 1];
		memcpy(w + o, p->buf + src, 1 + (size_t)p->buf[src]);
		o += 1 + (size_t)p->buf[src];
		src += 1 + (size_t)p->buf[src];
	}
	if (tpos <= PTR_LIMIT) {
		put16(w + o, (uint16_t)(0xC000 | tpos));
		o += 2;
	} else {
		memcpy(w + o, dn->target, dn->target_len);
		o += dn->target_len;
	}
	p->len += o;
	p->count[SEC_AN]++;

	/* A question for the CNAME itself ends with the synthesized one, as
	 * at a CNAME node (RFC 1034 §4.3.2 step 3a). RFC 6672 §3.2 reads as
	 * if the lookup always went on to the target; NSD and Knot both stop
	 * for CNAME and go on for ANY, and so do we. */
	if (l->qtype == RR_CNAME)
		return 0;
	uint8_t next[NAME_MAXLEN];
	memcpy(next, l->name, prefix);
	memcpy(next + prefix, dn->target, dn->target_len);
	if (cname_rdata > PTR_LIMIT ||
	    !name_is_below_or_at(next, prefix + dn->target_len, l->z->apex, l->z->apex_len))
		return 0;
	memcpy(l->name, next, prefix + dn->target_len);
	l->len = prefix + dn->target_len;
	l->pos = (uint16_t)cname_rdata;
	return 1;
}

/* One step of RFC 1034 §4.3.2 for l->name; 1 when a chain continues. */
static int answer_step(struct pkt *p, struct lookup *l)
{
	const struct zone *z = l->z;
	const struct zone_node *n = zone_find(z, l->name, l->len);

	if (n) {
		if (n->cut && !(n->cut == n && l->qtype == RR_DS)) {
			/* RFC 4035 §3.1.4.1 / RFC 1034: DS belongs to the parent;
			 * everything else at or below a cut is a referral. */
			int below = count_labels_between(l->name, l->len, n->cut->name_len);
			put_referral(p, n->cut, name_suffix_pos(p, l->pos, below));
			if (!l->answered)
				l->aa = 0;
			return 0;
		}
		return answer_node(p, l, n);
	}

	/* The closest encloser: strip labels until a node exists (the apex
	 * always does). */
	const uint8_t *s = l->name;
	size_t slen = l->len;
	int stripped = 0;
	const struct zone_node *ce = NULL;
	while (!ce && slen > z->apex_len) {
		slen -= 1 + (size_t)s[0];
		s += 1 + (size_t)s[0];
		stripped++;
		ce = zone_find(z, s, slen);
	}
	if (!ce) /* cannot happen for a name inside the zone */
		ce = z->apex_node;
	if (ce->cut) {
		int below = count_labels_between(l->name, l->len, ce->cut->name_len);
		put_referral(p, ce->cut, name_suffix_pos(p, l->pos, below));
		if (!l->answered)
			l->aa = 0;
		return 0;
	}
	if (ce->flags & ZN_DNAME)
		return answer_dname(p, l, ce);
	if (ce->wild) {
		/* RFC 4592 §3.3.1: the wildcard at the closest encloser
		 * answers, with the query name as owner. */
		return answer_node(p, l, ce->wild);
	}
	l->rcode = RCODE_NXDOMAIN;
	put_negative_soa(p, l);
	return 0;
}

static void answer_auth(struct pkt *p, struct lookup *l)
{
	for (int i = 0; i < CHAIN_MAX; i++) {
		if (!answer_step(p, l))
			return;
		/* RFC 6604: the rcode is that of the last name in the chain. */
	}
}

/* RFC 5782 answers from the listing database. */
static void answer_dnsbl(struct pkt *p, struct lookup *l, const struct query *q,
			 const struct dnsbl_name *nm, struct answer_ctx *ctx)
{
	struct dnsbl_answer r;
	int want_txt = q->qtype == RR_TXT || q->qtype == RR_ANY;

	dnsbl_lookup(l->z->bl, ctx->bl, nm, ctx->client, ctx->now, want_txt, &r);
	switch (r.status) {
	case DNSBL_LISTED:
		break;
	case DNSBL_NODATA:
		put_negative_soa(p, l);
		return;
	case DNSBL_NXDOMAIN:
		l->rcode = RCODE_NXDOMAIN;
		put_negative_soa(p, l);
		return;
	case DNSBL_REFUSED:
		l->aa = 0;
		l->rcode = RCODE_REFUSED;
		return;
	case DNSBL_SERVFAIL:
	default:
		l->aa = 0;
		l->rcode = RCODE_SERVFAIL;
		return;
	}
	ctx->dnsbl_hit = 1;
	int want_a = q->qtype == RR_A || q->qtype == RR_ANY;
	if (!want_a && !want_txt) {
		put_negative_soa(p, l); /* listed, but no data of this type */
		return;
	}
	size_t need = (want_a ? (size_t)r.n_codes * 16 : 0) + (want_txt && r.txt_len ? 12u + r.txt_len : 0);
	if (p->len + need > p->limit) {
		p->tc = 1;
		return;
	}
	uint8_t *w = p->buf + p->len;
	size_t o = 0;
	for (int i = 0; want_a && i < r.n_codes; i++) {
		put16(w + o, 0xC00C);
		put16(w + o + 2, RR_A);
		put16(w + o + 4, CLASS_IN);
		put16(w + o + 6, (uint16_t)(r.ttl >> 16));
		put16(w + o + 8, (uint16_t)r.ttl);
		put16(w + o + 10, 4);
		memcpy(w + o + 12, r.codes[i], 4);
		o += 16;
		p->count[SEC_AN]++;
	}
	if (want_txt && r.txt_len) {
		put16(w + o, 0xC00C);
		put16(w + o + 2, RR_TXT);
		put16(w + o + 4, CLASS_IN);
		put16(w + o + 6, (uint16_t)(r.ttl >> 16));
		put16(w + o + 8, (uint16_t)r.ttl);
		put16(w + o + 10, r.txt_len);
		memcpy(w + o + 12, r.txt, r.txt_len);
		o += 12u + r.txt_len;
		p->count[SEC_AN]++;
	}
	p->len += o;
}

/* CHAOS TXT version.bind and friends (the convention BIND started). */
static int answer_chaos(struct pkt *p, const struct query *q, const struct answer_opts *opts)
{
	static const uint8_t version_bind[] = "\7version\4bind";
	static const uint8_t version_server[] = "\7version\6server";
	static const uint8_t id_server[] = "\2id\6server";
	static const uint8_t hostname_bind[] = "\10hostname\4bind";
	const char *text = NULL;

	if (q->qtype != RR_TXT && q->qtype != RR_ANY)
		return RCODE_REFUSED;
#define IS(n) (q->qname_len == sizeof(n) && memcmp(q->lname, n, sizeof(n)) == 0)
	if (IS(version_bind) || IS(version_server))
		text = opts->version;
	else if (IS(id_server) || IS(hostname_bind))
		text = opts->identity;
	else
		return RCODE_REFUSED;
#undef IS
	if (!text)
		return RCODE_REFUSED; /* hidden, as NSD's hide-version does */
	size_t tl = strlen(text);
	if (tl > 255)
		tl = 255;
	if (p->len + 13 + tl > p->limit) {
		p->tc = 1;
		return RCODE_NOERROR;
	}
	uint8_t *w = p->buf + p->len;
	put16(w, 0xC00C);
	put16(w + 2, RR_TXT);
	put16(w + 4, CLASS_CH);
	memset(w + 6, 0, 4);
	put16(w + 10, (uint16_t)(tl + 1));
	w[12] = (uint8_t)tl;
	memcpy(w + 13, text, tl);
	p->len += 13 + tl;
	p->count[SEC_AN] = 1;
	return RCODE_NOERROR;
}

static size_t finish(struct pkt *p, const struct query *q, struct answer_ctx *ctx, int rcode,
		     int aa, const struct answer_opts *opts)
{
	uint8_t *h = p->buf;
	put16(h, q->id);
	h[2] = (uint8_t)(0x80 | (q->opcode << 3) | (aa ? 0x04 : 0) | (p->tc ? 0x02 : 0) | q->rd);
	h[3] = (uint8_t)((q->cd ? 0x10 : 0) | (rcode & 0x0F));
	put16(h + 4, q->have_question ? 1 : 0);
	put16(h + 6, p->count[SEC_AN]);
	put16(h + 8, p->count[SEC_NS]);
	put16(h + 10, p->count[SEC_AR]);
	if (q->edns) {
		/* RFC 6891 §6.1.3: our payload size, the extended rcode's
		 * upper bits, version 0, DO echoed (RFC 3225 §3). The writer
		 * kept room for it. */
		uint8_t *w = p->buf + p->len;
		w[0] = 0;
		put16(w + 1, RR_OPT);
		put16(w + 3, opts->udp_size);
		w[5] = (uint8_t)(rcode >> 4);
		w[6] = 0;
		w[7] = q->edns_do ? 0x80 : 0;
		w[8] = 0;
		put16(w + 9, 0);
		p->len += OPT_RR_LEN;
		put16(h + 10, (uint16_t)(p->count[SEC_AR] + 1));
	}
	ctx->rcode = (uint8_t)rcode;
	ctx->truncated = (uint8_t)p->tc;
	return p->len;
}

/* The zone holding the query name's parent, if we serve one. */
static const struct zone *parent_zone(const struct zonedb *db, const struct query *q)
{
	uint8_t off[NAME_MAXLABELS + 1];
	size_t skip = 1u + q->lname[0];
	for (int i = 1; i < q->n_labels; i++)
		off[i - 1] = (uint8_t)(q->label_off[i] - skip);
	return zonedb_find(db, q->lname + skip, q->qname_len - skip, off, q->n_labels - 1);
}

void answer_pre_parse(struct answer_pre *a, const uint8_t *qbuf, size_t qlen, const struct zonedb *db)
{
	const struct query *q = &a->q;
	a->rc = query_parse(qbuf, qlen, &a->q);
	a->z = NULL;
	a->node = NULL;
	a->step = 0;
	a->n_warm = 0;
	if (a->rc == 0 && (q->qclass == CLASS_IN || q->qclass == CLASS_ANY) && db)
		a->z = zonedb_find(db, q->lname, q->qname_len, q->label_off, q->n_labels);
	if (a->z && a->z->bl && q->qname_len > a->z->apex_len) /* the name below the apex */
		dnsbl_name_set(&a->bn, q->lname, q->qname_len - a->z->apex_len,
			       q->n_labels - a->z->apex_labels);
}

void answer_prefetch(struct answer_pre *a, struct dnsbl_readers *bl)
{
	const struct zone *z = a->z;
	if (!z)
		return;
	if (z->bl) {
		/* The addresses first, then the prefetches: the step over the
		 * batch is then a short loop, and the batch's misses are all
		 * in flight at once rather than a few at a time. */
		if ((a->step == 0 || a->step == 2) && bl && a->q.qname_len > z->apex_len)
			a->n_warm = (uint8_t)dnsbl_warm_addrs(z->bl, bl, &a->bn, a->step / 2,
							      a->warm);
		else if (a->step == 1 || a->step == 3)
			for (int i = 0; i < a->n_warm; i++)
				__builtin_prefetch(a->warm[i]);
		a->step++;
		return;
	}
	switch (a->step++) {
	case 0:
		a->hash = zone_prefetch_slot(z, a->q.lname, a->q.qname_len);
		break;
	case 1:
		a->node = zone_prefetch_node(z, a->hash);
		break;
	case 2:
		if (a->node)
			zone_prefetch_rrset(a->node, a->q.qtype);
		break;
	case 3:
		if (a->node)
			zone_prefetch_rdata(a->node, a->q.qtype);
		break;
	}
}

int answer_pipeline(struct answer_pre *pre, int n, int t, struct dnsbl_readers *bl)
{
	int lag = n > 1 ? ANSWER_PREFETCH_STEPS * ANSWER_PREFETCH_DIST : 0;
	if (t >= n + lag)
		return ANSWER_PIPELINE_END;
	for (int s = 0; s < ANSWER_PREFETCH_STEPS && lag; s++) {
		int j = t - s * ANSWER_PREFETCH_DIST;
		if (j >= 0 && j < n)
			answer_prefetch(&pre[j], bl);
	}
	return t >= lag ? t - lag : -1;
}

size_t answer_build(const uint8_t *qbuf, size_t qlen, const struct zonedb *db,
		    struct answer_ctx *ctx, uint8_t *out, size_t cap)
{
	struct answer_pre a;
	answer_pre_parse(&a, qbuf, qlen, db);
	return answer_pre_build(&a, db, ctx, out, cap);
}

size_t answer_pre_build(struct answer_pre *a, const struct zonedb *db, struct answer_ctx *ctx,
			uint8_t *out, size_t cap)
{
	static const struct answer_opts default_opts = {.udp_size = 1232};
	const struct answer_opts *opts = ctx->opts ? ctx->opts : &default_opts;
	const struct query *q = &a->q;
	struct pkt p = {.buf = out, .len = 12};
	int rc = a->rc;

	ctx->zone = NULL;
	ctx->dnsbl_hit = 0;
	ctx->qtype = q->qtype;
	ctx->qclass = q->qclass;
	ctx->edns = (uint8_t)q->edns;
	if (rc == QUERY_DROP || cap < 512)
		return 0;

	/* RFC 6891 §6.2.5: the requester's size (at least 512), capped by
	 * ours; 512 without EDNS (RFC 1035 §4.2.1); TCP up to 64 KiB. */
	size_t limit = 512;
	if (ctx->proto == ANSWER_TCP)
		limit = 65535;
	else if (q->edns)
		limit = q->edns_size < 512 ? 512 : q->edns_size > opts->udp_size ? opts->udp_size : q->edns_size;
	if (limit > cap)
		limit = cap;
	p.limit = limit - (q->edns ? OPT_RR_LEN : 0);

	if (q->have_question) {
		/* The question as sent: the client's case is preserved. */
		memcpy(out + 12, q->qname, q->qname_len);
		put16(out + 12 + q->qname_len, q->qtype);
		put16(out + 14 + q->qname_len, q->qclass);
		p.len = 16u + q->qname_len;
	}
	if (rc != 0)
		return finish(&p, q, ctx, rc, 0, opts);

	if (q->qtype == RR_OPT || (q->qtype >= 128 && q->qtype <= 254 && q->qtype != RR_AXFR &&
				  q->qtype != RR_IXFR && q->qtype != RR_MAILA && q->qtype != RR_MAILB))
		return finish(&p, q, ctx, RCODE_FORMERR, 0, opts); /* meta types, RFC 6895 §3.1 */
	if (q->qclass == CLASS_CH)
		return finish(&p, q, ctx, answer_chaos(&p, q, opts), 1, opts);
	/* QCLASS * (RFC 1035 §3.2.5) finds the IN data, the only class we
	 * hold, but the answer is not authoritative (RFC 1034 §5.3.1): no
	 * AA, and a negative answer without the SOA that would let it be
	 * cached. NSD answers so; Knot sets AA and adds the SOA. */
	if (q->qclass != CLASS_IN && q->qclass != CLASS_ANY)
		return finish(&p, q, ctx, RCODE_REFUSED, 0, opts);

	const struct zone *z = a->z;
	if (z && q->qtype == RR_DS && z->apex_len == q->qname_len && q->n_labels > 0) {
		/* RFC 4035 §3.1.4.1: DS lives in the parent; when we serve
		 * both sides of the cut, the parent answers. */
		const struct zone *parent = parent_zone(db, q);
		if (parent)
			z = parent;
	}
	if (!z)
		return finish(&p, q, ctx, RCODE_REFUSED, 0, opts);
	ctx->zone = z;
	if (q->qtype == RR_AXFR || q->qtype == RR_IXFR || q->qtype == RR_MAILA || q->qtype == RR_MAILB)
		return finish(&p, q, ctx, q->qtype == RR_AXFR || q->qtype == RR_IXFR ? RCODE_REFUSED : RCODE_NOTIMP,
			      0, opts);

	struct lookup l; /* not an initializer: that would clear name[] too */
	l.z = z;
	l.len = q->qname_len;
	l.pos = 12;
	l.qtype = q->qtype;
	l.proto = ctx->proto;
	l.aa = q->qclass != CLASS_ANY;
	l.rcode = RCODE_NOERROR;
	l.answered = 0;
	memcpy(l.name, q->lname, q->qname_len);
	p.apex_pos = (uint16_t)(12 + q->qname_len - z->apex_len);
	if (z->bl && q->qname_len > z->apex_len) {
		/* DS moved the question up from a zone we serve below this
		 * DNSBL: the name exists (it is that zone's apex) and a DNSBL
		 * holds no DS, so NODATA whatever the list says (RFC 2308 §2.2). */
		if (z != a->z)
			put_negative_soa(&p, &l);
		else
			answer_dnsbl(&p, &l, q, &a->bn, ctx);
	} else
		answer_auth(&p, &l);
	return finish(&p, q, ctx, l.rcode, l.aa, opts);
}

/* zone: loading a master file (zones/master) and compiling it for answering.
 *
 * Loading reads every RR into a flat list (owner lowercased, rdata in
 * wire form with the positions of its domain names), then compiling sorts
 * it, builds the node table (empty non-terminals included), links cuts and
 * wildcards, checks the zone, and renders each RRset (see zone.h). */
#include "zone.h"

#include "arena.h"
#include "dnsbl.h"
#include "errcode.h"
#include "log.h"
#include "master.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


struct rec {
	uint32_t hash;        /* of the owner: sorting compares it first */
	const uint8_t *owner; /* lowercased wire, in the loader's arena */
	uint8_t owner_len;
	uint8_t n_names;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
	uint16_t name_off[MASTER_MAX_NAMES]; /* positions of names in rdata */
	int line;
	const char *file;
};

struct loader {
	const char *origin_text;
	uint8_t apex[NAME_MAXLEN];
	size_t apex_len;
	struct arena *tmp; /* records, freed after compiling */
	struct rec *recs;
	size_t n_recs, cap_recs;
	const char *label; /* the file (or text label) read, for messages */
	char *err;
	size_t errlen;
	int warnings;
};

static int fail_at(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n = line > 0 ? snprintf(L->err, L->errlen, "%s:%d: ", file, line)
			 : snprintf(L->err, L->errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= L->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return MX_EZONE;
}

static void warn_at(struct loader *L, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn_at(struct loader *L, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s:%d: %s", file, line, msg);
	L->warnings++;
}

/* RFC 3597 §4: only the RFC 1035 types may have their rdata names
 * compressed; everything newer is sent as it is. */
static int type_compresses(uint16_t type)
{
	switch (type) {
	case RR_NS: case 3: case 4: case RR_CNAME: case RR_SOA: case 7: case 8: case 9:
	case RR_PTR: case 14: case RR_MX:
		return 1;
	}
	return 0;
}

/* master_reader callback: one record into the flat list. */
static int add_record(void *arg, const struct master_rr *mr)
{
	struct loader *L = arg;
	struct rec r = {0};

	if (mr->klass != CLASS_IN)
		return fail_at(L, mr->file, mr->line, "class %u is not IN", mr->klass);
	uint8_t lower[NAME_MAXLEN];
	name_lower(lower, mr->owner, mr->owner_len);
	if (!name_is_below_or_at(lower, mr->owner_len, L->apex, L->apex_len)) {
		char s[NAME_MAXLEN * 4 + 2];
		name_to_text(lower, s, sizeof(s));
		warn_at(L, mr->file, mr->line, "%s is outside the zone %s: ignored", s,
			L->origin_text);
		return 0;
	}
	r.hash = name_hash(lower, mr->owner_len);
	r.owner = arena_memdup(L->tmp, lower, mr->owner_len);
	r.owner_len = (uint8_t)mr->owner_len;
	r.type = mr->type;
	r.ttl = mr->ttl;
	r.rdata = arena_memdup(L->tmp, mr->rdata, mr->rdlen);
	r.rdlen = (uint16_t)mr->rdlen;
	r.n_names = (uint8_t)mr->n_names;
	memcpy(r.name_off, mr->name_off, sizeof(r.name_off));
	r.line = mr->line;
	r.file = mr->file;
	if (!r.owner || !r.rdata)
		return -ENOMEM;
	if (L->n_recs == L->cap_recs) {
		size_t cap = L->cap_recs ? L->cap_recs * 2 : 256;
		struct rec *nr = realloc(L->recs, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		L->recs = nr;
		L->cap_recs = cap;
	}
	L->recs[L->n_recs++] = r;
	return 0;
}

/* ---- compiling -------------------------------------------------------- */

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	/* Any order that groups owners will do: the hash settles almost
	 * every comparison without touching the names. */
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->owner_len != y->owner_len)
		return x->owner_len < y->owner_len ? -1 : 1;
	int c = memcmp(x->owner, y->owner, x->owner_len);
	if (c)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->rdlen != y->rdlen)
		return x->rdlen < y->rdlen ? -1 : 1;
	c = memcmp(x->rdata, y->rdata, x->rdlen);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Orders the records as rec_cmp does: a radix sort on the owner hash (in
 * file order within a hash), then an insertion sort of each run of equal
 * hashes, which is one owner's few records. A general sort of a million
 * 48-byte records spent a fifth of the load time moving them. */
static int sort_records(struct loader *L)
{
	size_t n = L->n_recs;
	uint64_t *key = malloc(n * sizeof(uint64_t) + 1), *tmp = malloc(n * sizeof(uint64_t) + 1);
	struct rec *out = malloc(n * sizeof(struct rec) + 1);
	size_t *count = malloc(65537 * sizeof(size_t));
	int rc = -ENOMEM;
	if (!key || !tmp || !out || !count)
		goto done;
	for (size_t i = 0; i < n; i++)
		key[i] = (uint64_t)L->recs[i].hash << 32 | i;
	for (int shift = 32; shift < 64; shift += 16) {
		memset(count, 0, 65537 * sizeof(size_t));
		for (size_t i = 0; i < n; i++)
			count[((key[i] >> shift) & 0xFFFF) + 1]++;
		for (int b = 0; b < 65536; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++)
			tmp[count[(key[i] >> shift) & 0xFFFF]++] = key[i];
		uint64_t *t = key;
		key = tmp;
		tmp = t;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = L->recs[(uint32_t)key[i]];
	for (size_t i = 1; i < n; i++) {
		struct rec r = out[i];
		size_t j = i;
		while (j > 0 && out[j - 1].hash == r.hash && rec_cmp(&out[j - 1], &r) > 0) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = r;
	}
	free(L->recs);
	L->recs = out;
	L->cap_recs = n;
	out = NULL;
	rc = 0;
done:
	free(count);
	free(key);
	free(tmp);
	free(out);
	return rc;
}

struct build_node {
	const uint8_t *name;
	uint8_t len;
	uint8_t labels;
	size_t first, count; /* records, sorted; count 0 = empty non-terminal */
};

/* Parents before children: a stable counting sort on the label count. */
static int sort_by_depth(struct build_node **bn, size_t n)
{
	size_t start[NAME_MAXLABELS + 2] = {0};
	struct build_node *out = malloc(n * sizeof(*out) + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		start[(*bn)[i].labels + 1]++;
	for (int d = 0; d <= NAME_MAXLABELS; d++)
		start[d + 1] += start[d];
	for (size_t i = 0; i < n; i++)
		out[start[(*bn)[i].labels]++] = (*bn)[i];
	free(*bn);
	*bn = out;
	return 0;
}

/* A growable set of names, for finding the empty non-terminals. */
struct nameset {
	uint32_t *slots; /* build_node index + 1 */
	uint32_t mask;
	size_t used;
};

static ssize_t nameset_find(const struct nameset *s, const struct build_node *nodes,
			    const uint8_t *name, size_t len)
{
	uint32_t i = name_hash(name, len) & s->mask;
	while (s->slots[i]) {
		const struct build_node *n = &nodes[s->slots[i] - 1];
		if (n->len == len && memcmp(n->name, name, len) == 0)
			return (ssize_t)s->slots[i] - 1;
		i = (i + 1) & s->mask;
	}
	return -1;
}

static int nameset_grow(struct nameset *s, const struct build_node *nodes, size_t n)
{
	uint32_t cap = 1024;
	while (cap < 2 * (n + 1))
		cap *= 2;
	if (s->slots && cap <= s->mask + 1)
		return 0;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->mask = cap - 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = name_hash(nodes[k].name, nodes[k].len) & s->mask;
		while (s->slots[i])
			i = (i + 1) & s->mask;
		s->slots[i] = (uint32_t)k + 1;
	}
	return 0;
}

static void nameset_put(struct nameset *s, const uint8_t *name, size_t len, size_t idx)
{
	uint32_t i = name_hash(name, len) & s->mask;
	while (s->slots[i])
		i = (i + 1) & s->mask;
	s->slots[i] = (uint32_t)idx + 1;
}

const struct zone_node *zone_find(const struct zone *z, const uint8_t *name, size_t len)
{
	uint32_t h = name_hash(name, len);
	uint32_t i = h & z->table_mask;
	for (uint64_t slot; (slot = z->table[i]) != 0; i = (i + 1) & z->table_mask) {
		if ((uint32_t)(slot >> 32) != h)
			continue;
		const struct zone_node *n = &z->nodes[(uint32_t)slot - 1];
		if (n->name_len == len && memcmp(n->name, name, len) == 0)
			return n;
	}
	return NULL;
}

_Static_assert(sizeof(struct zone_node) == 64, "a node is one cache line");
_Static_assert(sizeof(struct zone_rrset) == 64, "an RRset is one cache line");

const struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type)
{
	uint16_t i = 0;
	for (; i < n->n_rrsets && i < ZONE_NODE_TYPES; i++)
		if (n->types[i] == type)
			return &n->rrsets[i];
	for (; i < n->n_rrsets; i++)
		if (n->rrsets[i].type == type)
			return &n->rrsets[i];
	return NULL;
}

static int rrset_has_addresses(const struct zone_node *n)
{
	return n && (zone_node_rrset(n, RR_A) || zone_node_rrset(n, RR_AAAA));
}

/* Renders recs[0..count) (one RRset, duplicates removed) into rs. */
static int render_rrset(struct loader *L, struct zone *z, struct arena *a, struct zone_rrset *rs,
			const struct rec *recs, size_t count)
{
	size_t cap = 0, n_apex = 0;
	for (size_t i = 0; i < count; i++) {
		cap += 12 + recs[i].rdlen + 2 * recs[i].n_names;
		n_apex += recs[i].n_names;
	}
	if (cap > 65535)
		return fail_at(L, recs[0].file, recs[0].line, "RRset larger than 65535 bytes");
	uint8_t *w = arena_alloc(a, cap);
	rs->owner_fix = arena_alloc(a, count * sizeof(uint16_t));
	rs->apex_fix = arena_alloc(a, (n_apex ? n_apex : 1) * sizeof(uint16_t));
	rs->add = arena_alloc(a, count * sizeof(*rs->add));
	if (!w || !rs->owner_fix || !rs->apex_fix || !rs->add)
		return -ENOMEM;
	rs->type = recs[0].type;
	rs->ttl = recs[0].ttl;
	rs->count = (uint16_t)count;

	size_t o = 0;
	for (size_t i = 0; i < count; i++) {
		const struct rec *r = &recs[i];
		if (r->ttl != rs->ttl && i > 0 && r->ttl != recs[i - 1].ttl) {
			/* RFC 2181 §5.2: one TTL per RRset; the first one given wins. */
			warn_at(L, r->file, r->line, "TTL %u differs from the RRset's %u: using %u",
				r->ttl, rs->ttl, rs->ttl);
		}
		rs->owner_fix[i] = (uint16_t)o;
		w[o++] = 0xC0;
		w[o++] = 0x0C;
		w[o++] = (uint8_t)(r->type >> 8);
		w[o++] = (uint8_t)r->type;
		w[o++] = 0;
		w[o++] = CLASS_IN;
		w[o++] = (uint8_t)(rs->ttl >> 24);
		w[o++] = (uint8_t)(rs->ttl >> 16);
		w[o++] = (uint8_t)(rs->ttl >> 8);
		w[o++] = (uint8_t)rs->ttl;
		size_t rdlen_at = o;
		o += 2;
		size_t p = 0;
		for (int k = 0; k < r->n_names; k++) {
			size_t at = r->name_off[k];
			memcpy(w + o, r->rdata + p, at - p);
			o += at - p;
			size_t nl = name_len(r->rdata + at);
			uint8_t lower[NAME_MAXLEN];
			name_lower(lower, r->rdata + at, nl);
			size_t name_at = o;
			if (type_compresses(r->type) &&
			    name_is_below_or_at(lower, nl, z->apex, z->apex_len)) {
				size_t rel = nl - z->apex_len;
				memcpy(w + o, r->rdata + at, rel);
				o += rel;
				rs->apex_fix[rs->n_apex_fix++] = (uint16_t)o;
				w[o++] = 0xC0;
				w[o++] = 0x00;
			} else {
				memcpy(w + o, r->rdata + at, nl);
				o += nl;
			}
			p = at + nl;
			/* The additional-section target of MX (exchange), SRV
			 * (target) and NS (nsdname) is their only name. */
			if ((r->type == RR_MX || r->type == RR_SRV || r->type == RR_NS) && nl > 1 &&
			    name_is_below_or_at(lower, nl, z->apex, z->apex_len)) {
				const struct zone_node *t = zone_find(z, lower, nl);
				int dup = 0;
				for (uint16_t d = 0; d < rs->n_add; d++)
					dup |= rs->add[d].node == t;
				/* Whether t has addresses is known once every
				 * RRset is rendered: see resolve_additional(). */
				int usable = t && !dup &&
					     (r->type == RR_NS || !(t->flags & ZN_OCCLUDED));
				if (usable) {
					rs->add[rs->n_add].node = t;
					rs->add[rs->n_add++].name_off = (uint16_t)name_at;
				}
			}
			if ((r->type == RR_CNAME || r->type == RR_DNAME) && k == 0) {
				rs->target = arena_memdup(a, lower, nl);
				rs->target_len = (uint8_t)nl;
			}
		}
		memcpy(w + o, r->rdata + p, r->rdlen - p);
		o += r->rdlen - p;
		size_t rdlen = o - rdlen_at - 2;
		w[rdlen_at] = (uint8_t)(rdlen >> 8);
		w[rdlen_at + 1] = (uint8_t)rdlen;
	}
	rs->wire = w;
	rs->wire_len = (uint32_t)o;
	return 0;
}

/* Resolves each additional target's A and AAAA RRsets, and drops the
 * targets that turned out to have neither. */
static void resolve_additional(struct zone *z)
{
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct zone_node *n = &z->nodes[i];
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			struct zone_rrset *rs = &n->rrsets[r];
			uint16_t k = 0;
			for (uint16_t a = 0; a < rs->n_add; a++) {
				struct zone_additional *ad = &rs->add[a];
				const struct zone_node *t = ad->node;
				if (!rrset_has_addresses(t))
					continue;
				static const uint16_t types[2] = {RR_A, RR_AAAA};
				for (int ty = 0; ty < 2; ty++) {
					const struct zone_rrset *ar = zone_node_rrset(t, types[ty]);
					ad->wire[ty] = ar ? ar->wire : NULL;
					ad->wire_len[ty] = ar ? ar->wire_len : 0;
					ad->count[ty] = ar ? ar->count : 0;
				}
				ad->in_owner = (uint8_t)name_is_below_or_at(t->name, t->name_len,
									     n->name, n->name_len);
				rs->add[k++] = *ad;
			}
			rs->n_add = k;
		}
	}
}

static int check_node(struct loader *L, struct zone *z, const struct build_node *b,
		      const struct rec *recs, int is_apex)
{
	int has_cname = 0, other = 0, n_cname = 0, n_dname = 0;
	const struct rec *first = b->count ? &recs[b->first] : NULL;
	for (size_t i = b->first; i < b->first + b->count; i++) {
		uint16_t t = recs[i].type;
		if (t == RR_CNAME) {
			has_cname = 1;
			n_cname++;
		} else if (t != RR_RRSIG && t != RR_NSEC) {
			other = 1;
		}
		if (t == RR_DNAME)
			n_dname++;
		if (t == RR_SOA && !is_apex)
			return fail_at(L, recs[i].file, recs[i].line,
				       "SOA record below the zone apex %s", z->name);
	}
	if (has_cname && (other || is_apex)) {
		const struct rec *r = first;
		for (size_t i = b->first; i < b->first + b->count; i++)
			if (recs[i].type == RR_CNAME)
				r = &recs[i];
		char owner[1024];
		name_to_text(b->name, owner, sizeof(owner));
		return fail_at(L, r->file, r->line,
			       "%s has a CNAME and other data (RFC 1034 §3.6.2, RFC 2181 §10.1)",
			       owner);
	}
	if (n_cname > 1 || n_dname > 1) {
		char owner[1024];
		name_to_text(b->name, owner, sizeof(owner));
		return fail_at(L, first->file, first->line, "%s has more than one %s record", owner,
			       n_cname > 1 ? "CNAME" : "DNAME");
	}
	return 0;
}

static int compile(struct loader *L, struct zone *z)
{
	struct build_node *bn = NULL;
	size_t n_bn = 0, cap_bn = 0;
	struct nameset set = {0};
	uint8_t *dname_occluded = NULL;
	int rc = 0;
	struct arena *a = z->arena;

	if ((rc = sort_records(L)) != 0)
		goto fail;
	/* Remove duplicate RRs (RFC 2181 §5: an RRset has no duplicates). */
	size_t k = 0;
	for (size_t i = 0; i < L->n_recs; i++) {
		const struct rec *r = &L->recs[i];
		if (k > 0) {
			const struct rec *p = &L->recs[k - 1];
			if (p->owner_len == r->owner_len && p->type == r->type &&
			    p->rdlen == r->rdlen && memcmp(p->owner, r->owner, r->owner_len) == 0 &&
			    memcmp(p->rdata, r->rdata, r->rdlen) == 0)
				continue;
		}
		L->recs[k++] = *r;
	}
	L->n_recs = k;
	z->n_records = k;

	/* Nodes with data, then every missing ancestor as an empty
	 * non-terminal (RFC 4592 §2.2.2: they exist, so they answer NODATA). */
	for (size_t i = 0; i < L->n_recs;) {
		size_t j = i;
		while (j < L->n_recs && L->recs[j].owner_len == L->recs[i].owner_len &&
		       memcmp(L->recs[j].owner, L->recs[i].owner, L->recs[i].owner_len) == 0)
			j++;
		if (n_bn == cap_bn) {
			cap_bn = cap_bn ? cap_bn * 2 : 256;
			struct build_node *nb = realloc(bn, cap_bn * sizeof(*bn));
			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			bn = nb;
		}
		bn[n_bn++] = (struct build_node){L->recs[i].owner, L->recs[i].owner_len,
						  (uint8_t)name_count_labels(L->recs[i].owner), i,
						  j - i};
		i = j;
	}
	if ((rc = nameset_grow(&set, bn, n_bn)) != 0)
		goto fail;
	set.used = n_bn;
	size_t n_data = n_bn;
	for (size_t i = 0; i < n_data; i++) {
		const uint8_t *nm = bn[i].name;
		size_t len = bn[i].len;
		while (len > L->apex_len) {
			len -= 1 + (size_t)nm[0];
			nm += 1 + (size_t)nm[0];
			if (nameset_find(&set, bn, nm, len) >= 0)
				break;
			if (n_bn == cap_bn) {
				cap_bn *= 2;
				struct build_node *nb = realloc(bn, cap_bn * sizeof(*bn));
				if (!nb) {
					rc = -ENOMEM;
					goto fail;
				}
				bn = nb;
			}
			bn[n_bn] = (struct build_node){nm, (uint8_t)len,
						       (uint8_t)name_count_labels(nm), 0, 0};
			if ((set.used + 1) * 2 > set.mask + 1) {
				if ((rc = nameset_grow(&set, bn, n_bn + 1)) != 0)
					goto fail;
			} else {
				nameset_put(&set, nm, len, n_bn);
			}
			set.used++;
			n_bn++;
		}
	}
	/* Parents before children, so links are made in one pass. */
	if ((rc = sort_by_depth(&bn, n_bn)) != 0)
		goto fail;
	if (n_bn == 0 || bn[0].len != L->apex_len || memcmp(bn[0].name, L->apex, L->apex_len) != 0) {
		rc = fail_at(L, L->label, 0, "no SOA record at the zone apex %s", z->name);
		goto fail;
	}

	z->nodes = arena_alloc_aligned(a, n_bn * sizeof(*z->nodes), 64);
	uint32_t tcap = 16;
	while (tcap < 2 * n_bn)
		tcap *= 2;
	z->table = arena_alloc(a, tcap * sizeof(uint64_t));
	dname_occluded = calloc(n_bn, 1);
	if (!z->nodes || !z->table || !dname_occluded) {
		rc = -ENOMEM;
		goto fail;
	}
	z->table_mask = tcap - 1;
	z->n_nodes = n_bn;

	for (size_t i = 0; i < n_bn; i++) {
		struct zone_node *n = &z->nodes[i];
		const struct build_node *b = &bn[i];
		int is_apex = i == 0;
		if ((rc = check_node(L, z, b, L->recs, is_apex)) != 0)
			goto fail;
		n->name = arena_memdup(a, b->name, b->len);
		if (!n->name) {
			rc = -ENOMEM;
			goto fail;
		}
		n->name_len = b->len;
		n->rel_len = (uint8_t)(b->len - L->apex_len);
		uint32_t hash = name_hash(b->name, b->len);
		for (size_t r = b->first; r < b->first + b->count; r++) {
			if (L->recs[r].type == RR_NS && !is_apex)
				n->flags |= ZN_DELEG;
			if (L->recs[r].type == RR_DNAME)
				n->flags |= ZN_DNAME;
			if (L->recs[r].type == RR_CNAME)
				n->flags |= ZN_CNAME;
		}
		if (b->len >= 2 && b->name[0] == 1 && b->name[1] == '*')
			n->flags |= ZN_WILDCARD;
		if (!is_apex) {
			const uint8_t *pn = b->name + 1 + b->name[0];
			const struct zone_node *parent = zone_find(z, pn, b->len - 1 - b->name[0]);
			if (!parent) { /* cannot happen: ancestors were added */
				rc = MX_EZONE;
				goto fail;
			}
			size_t pi = (size_t)(parent - z->nodes);
			const struct zone_node *pcut = (parent->flags & ZN_DELEG) ? parent : parent->cut;
			if (pcut) {
				n->cut = pcut;
				n->flags |= ZN_OCCLUDED;
			} else if (n->flags & ZN_DELEG) {
				n->cut = n;
			}
			if ((parent->flags & ZN_DNAME) || dname_occluded[pi]) {
				/* RFC 6672 §2.4: names below a DNAME are not reachable. */
				dname_occluded[i] = 1;
				if (b->count)
					warn_at(L, L->recs[b->first].file, L->recs[b->first].line,
						"data below a DNAME is occluded and not served");
			}
			if ((n->flags & ZN_WILDCARD) && !dname_occluded[i])
				z->nodes[pi].wild = n;
			if (b->count && pcut && !(n->flags & ZN_DELEG) && !dname_occluded[i]) {
				for (size_t r = b->first; r < b->first + b->count; r++)
					if (L->recs[r].type != RR_A && L->recs[r].type != RR_AAAA) {
						warn_at(L, L->recs[r].file, L->recs[r].line,
							"non-address data below a delegation is occluded");
						break;
					}
			}
		}
		if (!dname_occluded[i]) {
			uint32_t s = hash & z->table_mask;
			while (z->table[s])
				s = (s + 1) & z->table_mask;
			z->table[s] = (uint64_t)hash << 32 | ((uint64_t)i + 1);
		}
	}

	/* RRsets, once every node can be found (additional targets). */
	for (size_t i = 0; i < n_bn; i++) {
		struct zone_node *n = &z->nodes[i];
		const struct build_node *b = &bn[i];
		size_t nsets = 0;
		for (size_t r = b->first; r < b->first + b->count; r++)
			if (r == b->first || L->recs[r].type != L->recs[r - 1].type)
				nsets++;
		if (!nsets)
			continue;
		n->rrsets = arena_alloc_aligned(a, nsets * sizeof(*n->rrsets), 64);
		if (!n->rrsets) {
			rc = -ENOMEM;
			goto fail;
		}
		for (size_t r = b->first; r < b->first + b->count;) {
			size_t e = r;
			while (e < b->first + b->count && L->recs[e].type == L->recs[r].type)
				e++;
			if (n->n_rrsets < ZONE_NODE_TYPES)
				n->types[n->n_rrsets] = L->recs[r].type;
			rc = render_rrset(L, z, a, &n->rrsets[n->n_rrsets++], &L->recs[r], e - r);
			if (rc)
				goto fail;
			r = e;
		}
	}

	resolve_additional(z);
	z->apex_node = &z->nodes[0];
	z->soa = zone_node_rrset(z->apex_node, RR_SOA);
	z->apex_ns = zone_node_rrset(z->apex_node, RR_NS);
	if (!z->soa) {
		rc = fail_at(L, L->label, 0, "no SOA record at the zone apex %s", z->name);
		goto fail;
	}
	if (z->soa->count != 1) {
		rc = fail_at(L, L->label, 0, "more than one SOA record at the apex of %s", z->name);
		goto fail;
	}
	if (!z->apex_ns) {
		rc = fail_at(L, L->label, 0, "no NS records at the zone apex %s", z->name);
		goto fail;
	}
	/* NS at a delegation whose name server is inside the cut needs glue. */
	for (size_t i = 1; i < n_bn; i++) {
		const struct zone_node *n = &z->nodes[i];
		const struct zone_rrset *ns = (n->flags & ZN_DELEG) && n->cut == n
						      ? zone_node_rrset(n, RR_NS)
						      : NULL;
		for (uint16_t r = 0; ns && r < ns->count; r++) {
			/* Find the nsdname: after the fixed 12 bytes of the RR. */
			size_t at = ns->owner_fix[r] + 12;
			uint8_t nm[NAME_MAXLEN];
			size_t p = at, nl = 0;
			while (ns->wire[p] && (ns->wire[p] & 0xC0) != 0xC0) {
				memcpy(nm + nl, ns->wire + p, 1 + (size_t)ns->wire[p]);
				nl += 1 + (size_t)ns->wire[p];
				p += 1 + (size_t)ns->wire[p];
			}
			if ((ns->wire[p] & 0xC0) == 0xC0) { /* relative to the apex */
				memcpy(nm + nl, z->apex, z->apex_len);
				nl += z->apex_len;
			} else {
				nm[nl++] = 0;
			}
			name_lower(nm, nm, nl);
			if (name_is_below_or_at(nm, nl, n->name, n->name_len) &&
			    !rrset_has_addresses(zone_find(z, nm, nl))) {
				char t[1024];
				name_to_text(nm, t, sizeof(t));
				log_warn("%s: delegation %s: name server %s has no glue address", L->label,
					 z->name, t);
				L->warnings++;
			}
		}
	}

	/* RFC 2308 §3: negative answers carry the SOA with the smaller of
	 * its TTL and its MINIMUM field. */
	const uint8_t *sw = z->soa->wire;
	uint32_t minimum = ((uint32_t)sw[z->soa->wire_len - 4] << 24) |
			   ((uint32_t)sw[z->soa->wire_len - 3] << 16) |
			   ((uint32_t)sw[z->soa->wire_len - 2] << 8) | sw[z->soa->wire_len - 1];
	z->serial = ((uint32_t)sw[z->soa->wire_len - 20] << 24) |
		    ((uint32_t)sw[z->soa->wire_len - 19] << 16) |
		    ((uint32_t)sw[z->soa->wire_len - 18] << 8) | sw[z->soa->wire_len - 17];
	z->soa_neg = *z->soa;
	z->soa_neg.wire = arena_memdup(a, z->soa->wire, z->soa->wire_len);
	if (!z->soa_neg.wire) {
		rc = -ENOMEM;
		goto fail;
	}
	uint32_t nttl = minimum < z->soa->ttl ? minimum : z->soa->ttl;
	z->soa_neg.ttl = nttl;
	z->soa_neg.wire[6] = (uint8_t)(nttl >> 24);
	z->soa_neg.wire[7] = (uint8_t)(nttl >> 16);
	z->soa_neg.wire[8] = (uint8_t)(nttl >> 8);
	z->soa_neg.wire[9] = (uint8_t)nttl;
fail:
	free(set.slots);
	free(bn);
	free(dname_occluded);
	return rc;
}

uint64_t zone_file_stamp(const struct zone *z)
{
	/* Size and inode too: editors that replace the file, or two writes
	 * within one timestamp tick, still change the stamp. */
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < z->n_files; i++) {
		struct stat st;
		if (stat(z->files[i], &st) != 0)
			return 0;
		uint64_t v[4] = {(uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
				 (uint64_t)st.st_size, (uint64_t)st.st_ino};
		for (int k = 0; k < 4; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	return h;
}

/* Reads the file (or, when text is set, the text) and compiles it. */
static struct zone *load(const char *origin, const char *file, const char *text, char *err,
			 size_t errlen)
{
	const char *label = file;
	struct loader L = {.origin_text = origin, .err = err, .errlen = errlen, .label = label};
	struct master_reader mr = {.fn = add_record, .arg = &L, .err = err, .errlen = errlen};
	struct zone *z = NULL;
	int rc;

	err[0] = 0;
	int alen = name_from_text(origin, L.apex);
	if (alen < 0) {
		rc = fail_at(&L, label, 0, "bad zone name '%s'", origin);
		goto fail;
	}
	name_lower(L.apex, L.apex, (size_t)alen);
	L.apex_len = (size_t)alen;
	L.tmp = arena_new();
	z = calloc(1, sizeof(*z));
	if (!L.tmp || !z || !(z->arena = arena_new())) {
		rc = -ENOMEM;
		goto fail;
	}
	atomic_init(&z->refs, 1);
	z->stats_slot = -1;
	memcpy(z->apex, L.apex, L.apex_len);
	z->apex_len = (uint8_t)L.apex_len;
	z->apex_labels = (uint8_t)name_count_labels(L.apex);
	char name[NAME_MAXLEN * 4 + 2];
	name_to_text(L.apex, name, sizeof(name));
	z->name = arena_strdup(z->arena, name);
	if (!z->name) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = text ? master_read_text(&mr, text, strlen(text), label, L.apex)
		  : master_read_file(&mr, file, L.apex);
	if (rc != 0 || (rc = compile(&L, z)) != 0)
		goto fail;
	if (!text) {
		z->file = arena_strdup(z->arena, file);
		z->files = mr.files;
		z->n_files = mr.n_files;
		mr.files = NULL;
		mr.n_files = 0;
		z->stamp = zone_file_stamp(z);
	}
	goto done;
fail:
	if (rc == -ENOMEM && !err[0])
		snprintf(err, errlen, "%s: out of memory", label);
	zone_unref(z);
	z = NULL;
done:
	master_cleanup(&mr);
	free(L.recs);
	arena_free(L.tmp);
	return z;
}

struct zone *zone_load(const char *origin, const char *file, char *err, size_t errlen)
{
	return load(origin, file, NULL, err, errlen);
}

struct zone *zone_from_text(const char *origin, const char *text, const char *label, char *err,
			    size_t errlen)
{
	return load(origin, label, text, err, errlen);
}

struct zone *zone_ref(struct zone *z)
{
	atomic_fetch_add(&z->refs, 1);
	return z;
}

void zone_unref(struct zone *z)
{
	if (!z || atomic_fetch_sub(&z->refs, 1) != 1)
		return;
	if (z->bl)
		dnsbl_zone_free(z->bl);
	for (size_t i = 0; i < z->n_files; i++)
		free(z->files[i]);
	free(z->files);
	arena_free(z->arena);
	free(z);
}

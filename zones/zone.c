/* zone: loading a master file (zones/master) and compiling it for answering.
 *
 * Loading reads every RR into a flat list (rdata in wire form with the
 * positions of its domain names) and gives each owner its node, creating
 * missing ancestors (empty non-terminals) first; compiling then groups the
 * records by node, links cuts and wildcards, checks the zone, and renders
 * each RRset (see zone.h). */
#include "zone.h"

#include "arena.h"
#include "bigmem.h"
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
	const uint8_t *rdata; /* wire form, in the loader's arena */
	const char *file;
	uint32_t node;        /* index in loader.nodes */
	uint32_t target;      /* MX, SRV, NS: the in-zone node named, + 1; 0: none */
	uint32_t ttl;
	int line;
	uint16_t type;
	uint16_t rdlen;
	uint16_t name_off[MASTER_MAX_NAMES]; /* positions of names in rdata */
	uint8_t n_names;
};

/* A node while loading: every owner and every empty non-terminal above it
 * (RFC 4592 §2.2.2: they exist, so they answer NODATA). A node is created
 * after its parent, so index order is parents first, the order linking
 * needs, and nodes of one part of the file stay together in memory. */
struct bnode {
	const uint8_t *name; /* lowercased, in the zone's arena */
	uint32_t hash;
	uint32_t parent;     /* index; the apex (index 0) is its own parent */
	uint32_t first;      /* its records: order[first .. first + count) */
	uint32_t count;      /* 0 for an empty non-terminal */
	uint8_t len;
};

struct loader {
	const char *origin_text;
	uint8_t apex[NAME_MAXLEN];
	size_t apex_len;
	struct arena *tmp;   /* rdata, freed after compiling */
	struct arena *names; /* the zone's arena, where node names go */
	/* Arrays from bigmem, in file order; cap_* are element counts. */
	struct rec *recs;
	size_t n_recs, cap_recs;
	struct bnode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *order;     /* n_recs record indices grouped by node */
	/* Node lookup: (hash << 32) | (index + 1), 0 = empty, at most half
	 * full; the layout of zone.table, which it becomes. */
	uint64_t *table;
	uint32_t table_mask;
	/* The last record's owner as written: records of one owner mostly
	 * come together, and then need no lookup. */
	uint8_t last_owner[NAME_MAXLEN];
	size_t last_owner_len;
	/* The owner (lowercased) of the records from pending_first on. Its
	 * table slot is prefetched when it is first seen and its node looked
	 * up when the next owner comes, so the cache miss on the slot of a
	 * new name overlaps with reading the records. */
	uint8_t pending[NAME_MAXLEN];
	size_t pending_len;
	uint32_t pending_hash;
	size_t pending_first;
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

/* Doubles a bigmem array of *cap elements of elem bytes. */
static int grow(void **p, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 1024;
	void *np = bigmem_resize(*p, *cap * elem, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static void table_put(uint64_t *table, uint32_t mask, uint32_t hash, size_t idx)
{
	uint32_t i = hash & mask;
	while (table[i])
		i = (i + 1) & mask;
	table[i] = (uint64_t)hash << 32 | ((uint64_t)idx + 1);
}

static size_t table_bytes(uint32_t mask)
{
	return ((size_t)mask + 1) * sizeof(uint64_t);
}

/* A new table for n nodes: every node except those marked in skip. */
static int table_rebuild(struct loader *L, size_t n, const uint8_t *skip)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	if (cap > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	uint64_t *t = bigmem_alloc(cap * sizeof(uint64_t));
	if (!t)
		return -ENOMEM;
	for (size_t k = 0; k < L->n_nodes; k++)
		if (!skip || !skip[k])
			table_put(t, (uint32_t)(cap - 1), L->nodes[k].hash, k);
	if (L->table)
		bigmem_free(L->table, table_bytes(L->table_mask));
	L->table = t;
	L->table_mask = (uint32_t)(cap - 1);
	return 0;
}

static int64_t table_find(const struct loader *L, const uint8_t *name, size_t len, uint32_t hash)
{
	for (uint32_t i = hash & L->table_mask; L->table[i]; i = (i + 1) & L->table_mask) {
		uint64_t slot = L->table[i];
		if ((uint32_t)(slot >> 32) != hash)
			continue;
		const struct bnode *b = &L->nodes[(uint32_t)slot - 1];
		if (b->len == len && memcmp(b->name, name, len) == 0)
			return (uint32_t)slot - 1;
	}
	return -1;
}

/* Appends a node; its name must stay valid (the zone's arena). */
static int64_t node_add(struct loader *L, const uint8_t *name, size_t len, uint32_t hash,
			uint32_t parent)
{
	if (L->n_nodes == L->cap_nodes &&
	    grow((void **)&L->nodes, &L->cap_nodes, sizeof(*L->nodes)) != 0)
		return -ENOMEM;
	if ((L->n_nodes + 1) * 2 > (size_t)L->table_mask + 1 &&
	    table_rebuild(L, L->n_nodes + 1, NULL) != 0)
		return -ENOMEM;
	size_t idx = L->n_nodes++;
	L->nodes[idx] = (struct bnode){name, hash, parent, 0, 0, (uint8_t)len};
	table_put(L->table, L->table_mask, hash, idx);
	return (int64_t)idx;
}

/* The node of a lowercased name at or below the apex (hash: its
 * name_hash), created with its missing ancestors. Returns its index or
 * -ENOMEM. */
static int64_t node_get(struct loader *L, const uint8_t *name, size_t len, uint32_t name_hash0)
{
	uint32_t hash[NAME_MAXLABELS + 1];
	size_t off[NAME_MAXLABELS + 1];
	int k = 0;
	size_t o = 0;
	int64_t up;
	/* The apex is always there, so the walk stops at it at the latest. */
	for (;;) {
		uint32_t h = o ? name_hash(name + o, len - o) : name_hash0;
		if ((up = table_find(L, name + o, len - o, h)) >= 0)
			break;
		hash[k] = h;
		off[k++] = o;
		o += 1 + (size_t)name[o];
	}
	if (k == 0)
		return up;
	/* The new ancestors' names are suffixes of one copy. */
	const uint8_t *copy = arena_memdup(L->names, name, len);
	if (!copy)
		return -ENOMEM;
	while (k-- > 0)
		if ((up = node_add(L, copy + off[k], len - off[k], hash[k], (uint32_t)up)) < 0)
			return up;
	return up;
}

/* Gives the pending owner's records their node. */
static int resolve_pending(struct loader *L)
{
	if (!L->pending_len)
		return 0;
	int64_t k = node_get(L, L->pending, L->pending_len, L->pending_hash);
	if (k < 0)
		return (int)k;
	for (size_t r = L->pending_first; r < L->n_recs; r++)
		L->recs[r].node = (uint32_t)k;
	L->pending_len = 0;
	return 0;
}

/* master_reader callback: one record into the flat list. */
static int add_record(void *arg, const struct master_rr *mr)
{
	struct loader *L = arg;
	int rc;

	if (mr->klass != CLASS_IN)
		return fail_at(L, mr->file, mr->line, "class %u is not IN", mr->klass);
	if (mr->owner_len != L->last_owner_len ||
	    memcmp(mr->owner, L->last_owner, mr->owner_len) != 0) {
		uint8_t lower[NAME_MAXLEN];
		name_lower(lower, mr->owner, mr->owner_len);
		if (!name_is_below_or_at(lower, mr->owner_len, L->apex, L->apex_len)) {
			char s[NAME_MAXLEN * 4 + 2];
			name_to_text(lower, s, sizeof(s));
			warn_at(L, mr->file, mr->line, "%s is outside the zone %s: ignored", s,
				L->origin_text);
			L->last_owner_len = 0; /* so the next record is looked at again */
			return 0;
		}
		if ((rc = resolve_pending(L)) != 0)
			return rc;
		memcpy(L->pending, lower, mr->owner_len);
		L->pending_len = mr->owner_len;
		L->pending_hash = name_hash(lower, mr->owner_len);
		L->pending_first = L->n_recs;
		__builtin_prefetch(&L->table[L->pending_hash & L->table_mask]);
		if (mr->owner_len > L->apex_len) { /* the parent's too: it may be new */
			size_t skip = 1 + (size_t)lower[0];
			uint32_t ph = name_hash(lower + skip, mr->owner_len - skip);
			__builtin_prefetch(&L->table[ph & L->table_mask]);
		}
		memcpy(L->last_owner, mr->owner, mr->owner_len);
		L->last_owner_len = mr->owner_len;
	}
	if (L->n_recs == L->cap_recs) {
		if (L->n_recs >= UINT32_MAX / 2)
			return fail_at(L, mr->file, mr->line, "more than %u records in one zone",
				       UINT32_MAX / 2);
		if (grow((void **)&L->recs, &L->cap_recs, sizeof(*L->recs)) != 0)
			return -ENOMEM;
	}
	const uint8_t *rdata = arena_memdup(L->tmp, mr->rdata, mr->rdlen);
	if (!rdata)
		return -ENOMEM;
	struct rec *r = &L->recs[L->n_recs++];
	*r = (struct rec){.rdata = rdata, .file = mr->file, .ttl = mr->ttl, .line = mr->line,
			  .type = mr->type, .rdlen = (uint16_t)mr->rdlen,
			  .n_names = (uint8_t)mr->n_names};
	memcpy(r->name_off, mr->name_off, sizeof(r->name_off));
	return 0;
}

/* ---- compiling -------------------------------------------------------- */

static const struct rec *rec_at(const struct loader *L, size_t i)
{
	return &L->recs[L->order[i]];
}

/* The order of one node's records: by type, then rdata, then line, so
 * RRsets are runs and duplicates neighbours. */
static int rec_cmp(const struct rec *x, const struct rec *y)
{
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->rdlen != y->rdlen)
		return x->rdlen < y->rdlen ? -1 : 1;
	int c = memcmp(x->rdata, y->rdata, x->rdlen);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* qsort_r: ties (equal lines of different files) go by file order, as
 * in the insertion sort. */
static int order_cmp(const void *a, const void *b, void *arg)
{
	const struct rec *recs = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = rec_cmp(&recs[x], &recs[y]);
	return c ? c : (x > y) - (x < y);
}

/* Groups the records by node (a counting sort on the node index, so file
 * order within a node and mostly sequential memory access), sorts each
 * node's records and removes duplicate RRs (RFC 2181 §5). */
static int group_records(struct loader *L, struct zone *z)
{
	size_t n = L->n_recs;
	L->order = bigmem_alloc(n * sizeof(uint32_t) + 1);
	if (!L->order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		L->nodes[L->recs[i].node].count++;
	uint32_t pos = 0;
	for (size_t k = 0; k < L->n_nodes; k++) {
		L->nodes[k].first = pos;
		pos += L->nodes[k].count;
		L->nodes[k].count = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct bnode *b = &L->nodes[L->recs[i].node];
		L->order[b->first + b->count++] = (uint32_t)i;
	}
	size_t total = 0;
	for (size_t k = 0; k < L->n_nodes; k++) {
		struct bnode *b = &L->nodes[k];
		uint32_t *o = L->order + b->first;
		if (b->count > 16) {
			qsort_r(o, b->count, sizeof(*o), order_cmp, L->recs);
		} else {
			for (uint32_t i = 1; i < b->count; i++) {
				uint32_t r = o[i], j = i;
				while (j > 0 && rec_cmp(&L->recs[o[j - 1]], &L->recs[r]) > 0) {
					o[j] = o[j - 1];
					j--;
				}
				o[j] = r;
			}
		}
		uint32_t m = 0;
		for (uint32_t i = 0; i < b->count; i++) {
			const struct rec *r = &L->recs[o[i]];
			if (m > 0) {
				const struct rec *p = &L->recs[o[m - 1]];
				if (p->type == r->type && p->rdlen == r->rdlen &&
				    memcmp(p->rdata, r->rdata, r->rdlen) == 0)
					continue;
			}
			o[m++] = o[i];
		}
		b->count = m;
		total += m;
	}
	z->n_records = total;
	return 0;
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

/* Index of type among the node's first ZONE_NODE_TYPES RRsets (the ones
 * whose types the node's own cache line holds), or -1. */
static int node_type_index(const struct zone_node *n, uint16_t type)
{
	for (int i = 0; i < n->n_rrsets && i < ZONE_NODE_TYPES; i++)
		if (n->types[i] == type)
			return i;
	return -1;
}

const struct zone_rrset *zone_node_rrset(const struct zone_node *n, uint16_t type)
{
	int i = node_type_index(n, type);
	if (i >= 0)
		return &n->rrsets[i];
	for (uint16_t j = ZONE_NODE_TYPES; j < n->n_rrsets; j++)
		if (n->rrsets[j].type == type)
			return &n->rrsets[j];
	return NULL;
}

#define PREFETCH_LINES 12

uint32_t zone_prefetch_slot(const struct zone *z, const uint8_t *name, size_t len)
{
	uint32_t h = name_hash(name, len);
	__builtin_prefetch(&z->table[h & z->table_mask]);
	return h;
}

const struct zone_node *zone_prefetch_node(const struct zone *z, uint32_t hash)
{
	uint32_t i = hash & z->table_mask;
	for (uint64_t slot; (slot = z->table[i]) != 0; i = (i + 1) & z->table_mask) {
		if ((uint32_t)(slot >> 32) == hash) {
			const struct zone_node *n = &z->nodes[(uint32_t)slot - 1];
			__builtin_prefetch(n);
			return n;
		}
	}
	return NULL;
}

void zone_prefetch_rrset(const struct zone_node *n, uint16_t type)
{
	__builtin_prefetch(n->name);
	int i = node_type_index(n, type);
	if (i >= 0)
		__builtin_prefetch(&n->rrsets[i]);
}

void zone_prefetch_rdata(const struct zone_node *n, uint16_t type)
{
	int i = node_type_index(n, type);
	if (i < 0)
		return;
	/* The block the answer reads (render_rrset): the targets, the apex
	 * fixups, the bytes and the targets' A and AAAA, in up to
	 * PREFETCH_LINES lines (a 2048-bit DKIM key's TXT is seven). */
	const struct zone_rrset *rs = &n->rrsets[i];
	const uint8_t *p = rs->n_add ? (const uint8_t *)rs->add
			   : rs->n_apex_fix ? (const uint8_t *)rs->apex_fix : rs->wire;
	const uint8_t *end = rs->wire + rs->wire_len + rs->tail_len;
	uintptr_t line = (uintptr_t)p & ~(uintptr_t)63;
	for (int k = 0; k < PREFETCH_LINES && line < (uintptr_t)end; k++, line += 64)
		__builtin_prefetch((const void *)line);
}

static int rrset_has_addresses(const struct zone_node *n)
{
	return n && (zone_node_rrset(n, RR_A) || zone_node_rrset(n, RR_AAAA));
}

/* The most bytes of additional A and AAAA copied beside an RRset: more
 * than a UDP answer holds. Past it (an NS set with large address sets,
 * over TCP) they are read where they are. */
#define ADD_COPY_MAX 4096

static int type_has_additional(uint16_t type)
{
	return type == RR_MX || type == RR_SRV || type == RR_NS;
}

/* The bytes of a record's additional target's A and AAAA RRsets, as
 * rendered (0 without a target). */
static size_t target_addr_len(const struct zone *z, const struct rec *r)
{
	if (!r->target)
		return 0;
	const struct zone_node *t = &z->nodes[r->target - 1];
	const struct zone_rrset *a = zone_node_rrset(t, RR_A), *aaaa = zone_node_rrset(t, RR_AAAA);
	return (a ? a->wire_len : 0) + (aaaa ? aaaa->wire_len : 0);
}

/* Points rs's additional targets at their A and AAAA RRsets and drops the
 * targets that have neither. With tail (room for all of them) the RRsets
 * are copied there, so that an answer reads the RRset, its targets and
 * their addresses from one block; without, they are pointed to where
 * they are. owner is rs's node. */
static void attach_additional(struct zone_rrset *rs, const struct zone_node *owner, uint8_t *tail)
{
	static const uint16_t types[2] = {RR_A, RR_AAAA};
	uint8_t *p = tail;
	uint16_t k = 0;
	for (uint16_t i = 0; i < rs->n_add; i++) {
		struct zone_additional ad = rs->add[i];
		if (!rrset_has_addresses(ad.node))
			continue;
		for (int ty = 0; ty < 2; ty++) {
			const struct zone_rrset *ar = zone_node_rrset(ad.node, types[ty]);
			ad.wire[ty] = !ar ? NULL : tail ? p : ar->wire;
			ad.wire_len[ty] = ar ? ar->wire_len : 0;
			ad.count[ty] = ar ? ar->count : 0;
			if (ar && tail) {
				memcpy(p, ar->wire, ar->wire_len);
				p += ar->wire_len;
			}
		}
		ad.in_owner = (uint8_t)name_is_below_or_at(ad.node->name, ad.node->name_len,
							   owner->name, owner->name_len);
		rs->add[k++] = ad;
	}
	rs->n_add = k;
	rs->tail_len = (uint16_t)(p - tail); /* 0 without a tail */
}

/* Renders the records order[first .. first + count) (one RRset, duplicates
 * removed) into rs. An RRset with additional targets is rendered after
 * every A and AAAA RRset of the zone: it copies theirs. */
static int render_rrset(struct loader *L, struct zone *z, struct arena *a, struct zone_rrset *rs,
			size_t first, size_t count)
{
	const struct rec *r0 = rec_at(L, first);
	int has_add = type_has_additional(r0->type);
	size_t cap = 0, n_apex = 0, tail = 0;
	for (size_t i = first; i < first + count; i++) {
		cap += 12 + rec_at(L, i)->rdlen + 2 * rec_at(L, i)->n_names;
		n_apex += rec_at(L, i)->n_names;
		if (has_add) /* room for every target; duplicates are dropped */
			tail += target_addr_len(z, rec_at(L, i));
	}
	if (cap > 65535)
		return fail_at(L, r0->file, r0->line, "RRset larger than 65535 bytes");
	if (tail > ADD_COPY_MAX)
		tail = 0;
	/* One allocation: additional targets (8-byte aligned, only for the
	 * types that have them), owner and apex fixups, the bytes, then the
	 * targets' A and AAAA. */
	size_t add_bytes = has_add ? count * sizeof(*rs->add) : 0;
	uint8_t *block = arena_alloc(a, add_bytes + 2 * (count + n_apex) + cap + tail);
	if (!block)
		return -ENOMEM;
	rs->add = (struct zone_additional *)(void *)block;
	rs->owner_fix = (uint16_t *)(void *)(block + add_bytes);
	rs->apex_fix = rs->owner_fix + count;
	uint8_t *w = (uint8_t *)(rs->apex_fix + n_apex);
	rs->type = r0->type;
	rs->ttl = r0->ttl;
	rs->count = (uint16_t)count;

	size_t o = 0;
	for (size_t i = 0; i < count; i++) {
		const struct rec *r = rec_at(L, first + i);
		if (r->ttl != rs->ttl && i > 0 && r->ttl != rec_at(L, first + i - 1)->ttl) {
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
			if (has_add && r->target) {
				const struct zone_node *t = &z->nodes[r->target - 1];
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
	if (rs->n_add)
		attach_additional(rs, &z->nodes[r0->node], tail ? w + o : NULL);
	return 0;
}

static int check_node(struct loader *L, struct zone *z, const struct bnode *b, int is_apex)
{
	int has_cname = 0, other = 0, n_cname = 0, n_dname = 0;
	const struct rec *first = b->count ? rec_at(L, b->first) : NULL;
	for (size_t i = b->first; i < b->first + b->count; i++) {
		const struct rec *r = rec_at(L, i);
		uint16_t t = r->type;
		if (t == RR_CNAME) {
			has_cname = 1;
			n_cname++;
		} else if (t != RR_RRSIG && t != RR_NSEC) {
			other = 1;
		}
		if (t == RR_DNAME)
			n_dname++;
		if (t == RR_SOA && !is_apex)
			return fail_at(L, r->file, r->line, "SOA record below the zone apex %s",
				       z->name);
	}
	if (has_cname && (other || is_apex)) {
		const struct rec *r = first;
		for (size_t i = b->first; i < b->first + b->count; i++)
			if (rec_at(L, i)->type == RR_CNAME)
				r = rec_at(L, i);
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

/* Node flags, cut and wildcard links, DNAME occlusion, in index order
 * (parents first); then the table becomes the zone's. */
static int link_nodes(struct loader *L, struct zone *z)
{
	size_t n_nodes = L->n_nodes, n_occluded = 0;
	uint8_t *dname_occluded = calloc(n_nodes, 1);
	int rc = 0;
	z->nodes = arena_alloc_aligned(z->arena, n_nodes * sizeof(*z->nodes), 64);
	if (!z->nodes || !dname_occluded) {
		rc = -ENOMEM;
		goto fail;
	}
	z->n_nodes = n_nodes;
	for (size_t i = 0; i < n_nodes; i++) {
		struct zone_node *n = &z->nodes[i];
		const struct bnode *b = &L->nodes[i];
		int is_apex = i == 0;
		if ((rc = check_node(L, z, b, is_apex)) != 0)
			goto fail;
		n->name = b->name;
		n->name_len = b->len;
		n->rel_len = (uint8_t)(b->len - L->apex_len);
		for (size_t r = b->first; r < b->first + b->count; r++) {
			uint16_t type = rec_at(L, r)->type;
			if (type == RR_NS && !is_apex)
				n->flags |= ZN_DELEG;
			if (type == RR_DNAME)
				n->flags |= ZN_DNAME;
			if (type == RR_CNAME)
				n->flags |= ZN_CNAME;
		}
		if (b->len >= 2 && b->name[0] == 1 && b->name[1] == '*')
			n->flags |= ZN_WILDCARD;
		if (is_apex)
			continue;
		size_t pi = b->parent;
		const struct zone_node *parent = &z->nodes[pi];
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
			n_occluded++;
			if (b->count)
				warn_at(L, rec_at(L, b->first)->file, rec_at(L, b->first)->line,
					"data below a DNAME is occluded and not served");
		}
		if ((n->flags & ZN_WILDCARD) && !dname_occluded[i])
			z->nodes[pi].wild = n;
		if (b->count && pcut && !(n->flags & ZN_DELEG) && !dname_occluded[i]) {
			for (size_t r = b->first; r < b->first + b->count; r++)
				if (rec_at(L, r)->type != RR_A && rec_at(L, r)->type != RR_AAAA) {
					warn_at(L, rec_at(L, r)->file, rec_at(L, r)->line,
						"non-address data below a delegation is occluded");
					break;
				}
		}
	}
	/* Occluded names are not found (rare: the table is built again). */
	if (n_occluded && (rc = table_rebuild(L, n_nodes - n_occluded, dname_occluded)) != 0)
		goto fail;
	z->table = L->table;
	z->table_mask = L->table_mask;
	L->table = NULL;
fail:
	free(dname_occluded);
	return rc;
}

/* The node each in-zone MX exchange, SRV target and NS name is, for the
 * additional section. Looked up in batches whose table slots are
 * prefetched first, so the cache misses overlap. */
static void resolve_targets(struct loader *L, const struct zone *z)
{
	enum { BATCH = 16 };
	struct {
		uint8_t name[NAME_MAXLEN];
		size_t len;
		uint32_t hash;
		size_t rec;
	} q[BATCH];
	int nq = 0;
	for (size_t i = 0; i <= L->n_recs; i++) {
		const struct rec *r = i < L->n_recs ? &L->recs[i] : NULL;
		if (r && (r->type == RR_MX || r->type == RR_SRV || r->type == RR_NS) && r->n_names) {
			/* The only name of these types (render_rrset relies on it). */
			const uint8_t *nm = r->rdata + r->name_off[0];
			size_t nl = name_len(nm);
			name_lower(q[nq].name, nm, nl);
			if (nl > 1 && name_is_below_or_at(q[nq].name, nl, z->apex, z->apex_len)) {
				q[nq].len = nl;
				q[nq].hash = name_hash(q[nq].name, nl);
				q[nq].rec = i;
				__builtin_prefetch(&z->table[q[nq].hash & z->table_mask]);
				nq++;
			}
		}
		if (nq == BATCH || (!r && nq)) {
			for (int k = 0; k < nq; k++) {
				const struct zone_node *t = zone_find(z, q[k].name, q[k].len);
				L->recs[q[k].rec].target = t ? (uint32_t)(t - z->nodes) + 1 : 0;
			}
			nq = 0;
		}
	}
}

/* The node's RRset array, each RRset's type set (the rest is rendered
 * later). */
static int node_rrsets_alloc(struct loader *L, struct arena *a, struct zone_node *n,
			     const struct bnode *b)
{
	size_t nsets = 0;
	for (size_t r = b->first; r < b->first + b->count; r++)
		if (r == b->first || rec_at(L, r)->type != rec_at(L, r - 1)->type)
			nsets++;
	if (!nsets)
		return 0;
	n->rrsets = arena_alloc_aligned(a, nsets * sizeof(*n->rrsets), 64);
	if (!n->rrsets)
		return -ENOMEM;
	for (size_t r = b->first; r < b->first + b->count; r++) {
		if (r != b->first && rec_at(L, r)->type == rec_at(L, r - 1)->type)
			continue;
		if (n->n_rrsets < ZONE_NODE_TYPES)
			n->types[n->n_rrsets] = rec_at(L, r)->type;
		n->rrsets[n->n_rrsets++].type = rec_at(L, r)->type;
	}
	return 0;
}

static int compile(struct loader *L, struct zone *z)
{
	int rc = 0;
	struct arena *a = z->arena;

	if ((rc = resolve_pending(L)) != 0 || (rc = group_records(L, z)) != 0 ||
	    (rc = link_nodes(L, z)) != 0)
		goto fail;
	resolve_targets(L, z);

	/* RRsets, once every node can be found (additional targets): first
	 * all but MX, SRV and NS, then those, which copy their targets' A
	 * and AAAA (render_rrset). */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < L->n_nodes; i++) {
			struct zone_node *n = &z->nodes[i];
			const struct bnode *b = &L->nodes[i];
			if (pass == 0 && (rc = node_rrsets_alloc(L, a, n, b)) != 0)
				goto fail;
			uint16_t k = 0;
			for (size_t r = b->first; r < b->first + b->count; k++) {
				size_t e = r;
				while (e < b->first + b->count &&
				       rec_at(L, e)->type == rec_at(L, r)->type)
					e++;
				if (type_has_additional(n->rrsets[k].type) == pass &&
				    (rc = render_rrset(L, z, a, &n->rrsets[k], r, e - r)) != 0)
					goto fail;
				r = e;
			}
		}
	}

	z->apex_node = &z->nodes[0];
	z->soa = zone_node_rrset(z->apex_node, RR_SOA);
	z->apex_ns = zone_node_rrset(z->apex_node, RR_NS);
	if (!z->soa)
		rc = fail_at(L, L->label, 0, "no SOA record at the zone apex %s", z->name);
	else if (z->soa->count != 1)
		rc = fail_at(L, L->label, 0, "more than one SOA record at the apex of %s", z->name);
	else if (!z->apex_ns)
		rc = fail_at(L, L->label, 0, "no NS records at the zone apex %s", z->name);
	if (rc)
		goto fail;
	/* NS at a delegation whose name server is inside the cut needs glue. */
	for (size_t i = 1; i < z->n_nodes; i++) {
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
	L.names = z->arena;
	/* The apex is node 0 and always exists: every owner hangs below it. */
	const uint8_t *apex_name = arena_memdup(z->arena, L.apex, L.apex_len);
	if (!z->name || !apex_name || table_rebuild(&L, 1, NULL) != 0 ||
	    node_add(&L, apex_name, L.apex_len, name_hash(L.apex, L.apex_len), 0) < 0) {
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
	bigmem_free(L.recs, L.cap_recs * sizeof(*L.recs));
	bigmem_free(L.nodes, L.cap_nodes * sizeof(*L.nodes));
	bigmem_free(L.order, L.n_recs * sizeof(uint32_t) + 1);
	if (L.table)
		bigmem_free(L.table, table_bytes(L.table_mask));
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
	if (z->table)
		bigmem_free(z->table, table_bytes(z->table_mask));
	arena_free(z->arena);
	free(z);
}

/* blstore: the DNSBL listing database (see blstore.h). */
#include "blstore.h"

#include "bigend.h"
#include "blfast.h"
#include "errcode.h"
#include "log.h"
#include "name.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The daemon maps this much address space read-only, so a database that
 * the tool grows stays inside the daemon's map (MDB_MAP_RESIZED is then
 * rare); it costs address space only, never memory. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define READER_MAPSIZE ((size_t)1 << 38)
#define MAX_MAPSIZE ((size_t)1 << 40)
#else
#define READER_MAPSIZE ((size_t)1 << 30)
#define MAX_MAPSIZE ((size_t)1 << 31)
#endif
#define MIN_MAPSIZE ((size_t)64 << 20)
#define MAX_READERS 1024

/* Whether every code is 127.0.0.d, the form a version 2 value holds in
 * one byte: almost every list's. */
static int codes_low(const struct blval *v)
{
	for (int i = 0; i < v->n_codes; i++)
		if (v->codes[i][0] != 127 || v->codes[i][1] != 0 || v->codes[i][2] != 0)
			return 0;
	return v->n_codes > 0;
}

static void put_time(uint8_t *p, uint64_t t, size_t width)
{
	if (width == 8)
		bigend_put64(p, t);
	else
		bigend_put32(p, (uint32_t)t);
}

int blval_encode(const struct blval *v, uint8_t *out, size_t cap)
{
	uint8_t flags = v->flags & (uint8_t)~(BLVAL_LOW_CODES | BLVAL_TIME64);
	int expires = flags & BLVAL_EXPIRES, source = flags & BLVAL_SOURCE;
	int rref = flags & BLVAL_REASON_REF, sref = flags & BLVAL_SOURCE_REF;

	if ((rref && v->reason_len != BLVAL_REF_LEN) ||
	    (sref && (!source || v->source_len != BLVAL_REF_LEN)))
		return MX_EMALFORMED;
	if (codes_low(v))
		flags |= BLVAL_LOW_CODES;
	if (v->listed_at > UINT32_MAX || (expires && v->expires > UINT32_MAX))
		flags |= BLVAL_TIME64;
	size_t cw = (flags & BLVAL_LOW_CODES) ? 1 : 4, tw = (flags & BLVAL_TIME64) ? 8 : 4;
	size_t need = 3 + (size_t)v->n_codes * cw + tw + (expires ? tw : 0) +
		      (rref ? 0 : 2) + v->reason_len;
	if (source)
		need += (sref ? 0 : 1) + (size_t)v->source_len;
	if (need > cap || v->n_codes > BLVAL_MAX_CODES)
		return MX_ESPACE;
	size_t o = 0;
	out[o++] = BLVAL_VERSION;
	out[o++] = flags;
	out[o++] = v->n_codes;
	for (int i = 0; i < v->n_codes; i++, o += cw)
		memcpy(out + o, v->codes[i] + 4 - cw, cw);
	put_time(out + o, v->listed_at, tw);
	o += tw;
	if (expires) {
		put_time(out + o, v->expires, tw);
		o += tw;
	}
	if (!rref) {
		out[o++] = (uint8_t)(v->reason_len >> 8);
		out[o++] = (uint8_t)v->reason_len;
	}
	if (v->reason_len)
		memcpy(out + o, v->reason, v->reason_len);
	o += v->reason_len;
	if (source) {
		if (!sref)
			out[o++] = v->source_len;
		if (v->source_len)
			memcpy(out + o, v->source, v->source_len);
		o += v->source_len;
	}
	return (int)o;
}

static uint64_t get_time(const uint8_t *p, size_t width)
{
	return width == 8 ? bigend_get64(p) : bigend_get32(p);
}

/* Both versions: version 1 is version 2 with four-byte codes, eight-byte
 * times and every text length-prefixed, a reference too (8 bytes long). */
int blval_decode(const uint8_t *buf, size_t len, struct blval *v)
{
	memset(v, 0, sizeof(*v));
	if (len < 3 || (buf[0] != 1 && buf[0] != BLVAL_VERSION) || buf[2] > BLVAL_MAX_CODES)
		return MX_EMALFORMED;
	int v1 = buf[0] == 1;
	uint8_t flags = buf[1];
	if (flags & (v1 ? BLVAL_LOW_CODES | BLVAL_TIME64 | 0x80 : 0x80))
		return MX_EMALFORMED;
	size_t cw = (flags & BLVAL_LOW_CODES) ? 1 : 4;
	size_t tw = v1 || (flags & BLVAL_TIME64) ? 8 : 4;
	size_t ref_len = v1 ? BLVAL_REF_LEN_V1 : BLVAL_REF_LEN;
	int rref = flags & BLVAL_REASON_REF, sref = flags & BLVAL_SOURCE_REF;
	size_t o = 3;
	v->n_codes = buf[2];
	if (o + v->n_codes * cw + tw + ((flags & BLVAL_EXPIRES) ? tw : 0) > len)
		return MX_EMALFORMED;
	for (int i = 0; i < v->n_codes; i++, o += cw) {
		if (cw == 1)
			v->codes[i][0] = 127;
		memcpy(v->codes[i] + 4 - cw, buf + o, cw);
	}
	v->listed_at = get_time(buf + o, tw);
	o += tw;
	if (flags & BLVAL_EXPIRES) {
		v->expires = get_time(buf + o, tw);
		o += tw;
	}
	if (rref && !v1) {
		v->reason_len = BLVAL_REF_LEN;
	} else {
		if (o + 2 > len)
			return MX_EMALFORMED;
		v->reason_len = (uint16_t)(buf[o] << 8 | buf[o + 1]);
		o += 2;
	}
	if (o + v->reason_len > len || (rref && v->reason_len != ref_len))
		return MX_EMALFORMED;
	v->reason = (const char *)buf + o;
	o += v->reason_len;
	if (sref && !(flags & BLVAL_SOURCE))
		return MX_EMALFORMED;
	if (sref && !v1) {
		v->source_len = BLVAL_REF_LEN;
	} else if (flags & BLVAL_SOURCE) {
		if (o + 1 > len)
			return MX_EMALFORMED;
		v->source_len = buf[o++];
	}
	if (o + v->source_len > len || (sref && v->source_len != ref_len))
		return MX_EMALFORMED;
	if (flags & BLVAL_SOURCE)
		v->source = (const char *)buf + o;
	o += v->source_len;
	v->flags = flags & (uint8_t)~(BLVAL_LOW_CODES | BLVAL_TIME64);
	return o == len ? 0 : MX_EMALFORMED;
}

/* ---- shared texts ("str:" records) ---- */

/* A text's reference: FNV-1a folded to 32 bits. A collision only keeps
 * a text inline (str_intern), and a list has a handful of texts. */
static uint32_t str_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3u;
	return (uint32_t)(h ^ h >> 32);
}

/* The record's key: "str:" and the reference as the value holds it (4
 * bytes; 8 in a version 1 value). */
static size_t str_key(uint8_t *buf, const uint8_t *ref, size_t ref_len)
{
	memcpy(buf, "str:", 4);
	memcpy(buf + 4, ref, ref_len);
	return 4 + ref_len;
}

/* Replaces the reference (*text, *len) by the text it names. */
static int str_resolve(MDB_txn *txn, const struct blstore *s, const char **text, size_t *len)
{
	uint8_t kb[4 + BLVAL_REF_LEN_V1];
	MDB_val k, v;
	if (*len != BLVAL_REF_LEN && *len != BLVAL_REF_LEN_V1)
		return MX_EMALFORMED;
	k.mv_size = str_key(kb, (const uint8_t *)*text, *len);
	k.mv_data = kb;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return MX_EMALFORMED;
	if (rc != 0)
		return blstore_err(rc);
	*text = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int blstore_val_strings(MDB_txn *txn, const struct blstore *s, struct blval *v)
{
	size_t len;
	int rc;
	if (v->flags & BLVAL_REASON_REF) {
		len = v->reason_len;
		if ((rc = str_resolve(txn, s, &v->reason, &len)) != 0)
			return rc;
		v->reason_len = (uint16_t)(len > 0xFFFF ? 0xFFFF : len);
		v->flags &= (uint8_t)~BLVAL_REASON_REF;
	}
	if (v->flags & BLVAL_SOURCE_REF) {
		len = v->source_len;
		if ((rc = str_resolve(txn, s, &v->source, &len)) != 0)
			return rc;
		v->source_len = (uint8_t)(len > 0xFF ? 0xFF : len);
		v->flags &= (uint8_t)~BLVAL_SOURCE_REF;
	}
	return 0;
}

/* Sets ref to text's hash and *stored to 1 when the value may refer to
 * it: its record holds it already, or the text is shared (kind 0 reason, 1
 * source: the same as the last one) and its record is written now. *stored
 * 0: the caller keeps it inline (used once so far, or another text has
 * that hash). */
static int str_intern(MDB_txn *txn, const struct blstore *s, struct blstore_strs *known,
		      int kind, const char *text, size_t len, uint8_t ref[BLVAL_REF_LEN],
		      int *stored)
{
	uint32_t h = str_hash(text, len);
	uint8_t kb[4 + BLVAL_REF_LEN];
	MDB_val k, v;
	int rc;

	bigend_put32(ref, h);
	*stored = 1;
	for (int i = 0; i < known->n; i++)
		if (known->hash[i] == h)
			return 0;
	k.mv_size = str_key(kb, ref, BLVAL_REF_LEN);
	k.mv_data = kb;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && (v.mv_size != len || memcmp(v.mv_data, text, len) != 0)) {
		*stored = 0;
		return 0;
	}
	if (rc == MDB_NOTFOUND && known->last[kind] != h) {
		known->last[kind] = h;
		*stored = 0;
		return 0;
	}
	if (rc == MDB_NOTFOUND) {
		v.mv_size = len;
		v.mv_data = (void *)text;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	}
	if (rc != 0)
		return blstore_err(rc);
	/* Only texts known to be stored as themselves are remembered. */
	known->hash[known->next] = h;
	known->next = (known->next + 1) % BLSTORE_STRS_KNOWN;
	if (known->n < BLSTORE_STRS_KNOWN)
		known->n++;
	return 0;
}

int blstore_val_compact(MDB_txn *txn, const struct blstore *s, struct blstore_strs *known,
			const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct blval v;
	uint8_t rref[BLVAL_REF_LEN], sref[BLVAL_REF_LEN];
	int rc, stored;
	if ((rc = blval_decode(in, len, &v)) != 0)
		return rc;
	if (!(v.flags & BLVAL_REASON_REF) && v.reason_len > BLVAL_REF_LEN) {
		if ((rc = str_intern(txn, s, known, 0, v.reason, v.reason_len, rref, &stored)) != 0)
			return rc;
		if (stored) {
			v.reason = (const char *)rref;
			v.reason_len = BLVAL_REF_LEN;
			v.flags |= BLVAL_REASON_REF;
		}
	}
	if ((v.flags & BLVAL_SOURCE) && !(v.flags & BLVAL_SOURCE_REF) &&
	    v.source_len > BLVAL_REF_LEN) {
		if ((rc = str_intern(txn, s, known, 1, v.source, v.source_len, sref, &stored)) != 0)
			return rc;
		if (stored) {
			v.source = (const char *)sref;
			v.source_len = BLVAL_REF_LEN;
			v.flags |= BLVAL_SOURCE_REF;
		}
	}
	return blval_encode(&v, out, cap);
}

int blstore_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return MX_ENOTFOUND;
	if (rc == MDB_MAP_FULL)
		return MX_ELIMIT;
	if (rc > 0 && rc < 1000)
		return -rc; /* LMDB passes errno values through */
	return MX_EDB;
}

int blstore_keycmp(const MDB_val *a, const MDB_val *b)
{
	const uint8_t *p = a->mv_data, *q = b->mv_data;
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, p + i, 8);
		memcpy(&y, q + i, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			x = __builtin_bswap64(x); /* as big-endian: memcmp's order */
			y = __builtin_bswap64(y);
#endif
			return x < y ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

/* LMDB's page and node layout, its on-disk format since 0.9 (MDB_page,
 * MDB_node): a page begins with its number (8 bytes), its flags at byte
 * 10 and the bounds of its free space, between the node offsets and the
 * nodes, at 12 and 14. A node's key follows an 8-byte header whose first
 * six bytes, on a branch page, are the child's page number. */
enum {
	MDBPAGE_SIZE = 4096,
	MDBPAGE_FLAGS = 10,
	MDBPAGE_LOWER = 12,
	MDBPAGE_UPPER = 14,
	MDBPAGE_BRANCH = 0x01,
	MDBPAGE_LEAF = 0x02,
	MDBNODE_HDR = 8,
};

/* A 16-bit field of LMDB's page format: the machine's byte order, not
 * the network's (query.c's get16). */
static uint16_t load16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The leaf page a reader's search last entered, per thread. */
static __thread const uint8_t *leaf_seen;

/* always_inline, like prefetch_child: GCC deems a function of loads and
 * prefetches alone pure, and drops the call to it. */
static inline __attribute__((always_inline)) void prefetch_leaf(const uint8_t *page)
{
	unsigned lower = load16(page + MDBPAGE_LOWER), upper = load16(page + MDBPAGE_UPPER);
	if (lower > upper || upper > MDBPAGE_SIZE)
		return;
	for (unsigned o = 64; o < lower; o += 64)
		__builtin_prefetch(page + o);
	for (unsigned o = upper & ~63u; o < MDBPAGE_SIZE; o += 64)
		__builtin_prefetch(page + o);
}

/* The first lines (header, node offsets) of the child of the branch node
 * whose key is at key. Pages are numbered in map order, so the child lies
 * (child - self) pages from this one; computed in integers, since a page
 * number that is not one makes a wild address, which a prefetch ignores. */
static inline __attribute__((always_inline)) void prefetch_child(const uint8_t *page, const uint8_t *key)
{
	const uint8_t *node = key - MDBNODE_HDR;
	uint64_t self, child = load16(node) | (uint64_t)load16(node + 2) << 16 |
			       (uint64_t)load16(node + 4) << 32;
	memcpy(&self, page, 8);
	uintptr_t at = (uintptr_t)page + (uintptr_t)((child - self) * MDBPAGE_SIZE);
	for (int line = 0; line < 3; line++)
		__builtin_prefetch((const void *)(at + 64 * (uintptr_t)line));
}

/* The comparator of a read-only environment: blstore_keycmp, and
 * prefetches ahead of LMDB's descent. DNSBL traffic has no locality: a
 * lookup lands on a leaf page no recent lookup touched, where the binary
 * search makes some eight dependent loads of different lines, each a
 * cache miss. So the first comparison on a leaf page prefetches the whole
 * page, and fetched together the lines cost about one miss. And on a
 * branch page, every node the key is not below may be the one LMDB
 * descends through (the last such is), so its child's first lines are
 * fetched while the search goes on. On the bench's 1M list, a loop of
 * lookups went from 0.80 to 0.57 us per lookup (0.95 to 0.71 with a
 * system call, which flushes the TLB, every 16 lookups); the leaf
 * prefetch is most of it. Branch pages are few and stay cached:
 * prefetching them whole cost more than it saved.
 *
 * Only in a read-only environment of 4 KiB pages, where every key LMDB
 * compares with (b) lies on a page of the map: a writer's dirty pages are
 * malloc'd and not page-aligned. The header loads are on b's own page; a
 * prefetch never faults. */
static int keycmp_reader(const MDB_val *a, const MDB_val *b)
{
	const uint8_t *key = b->mv_data;
	const uint8_t *page = (const uint8_t *)((uintptr_t)key & ~(uintptr_t)(MDBPAGE_SIZE - 1));
	unsigned flags = load16(page + MDBPAGE_FLAGS);
	if ((flags & MDBPAGE_LEAF) && page != leaf_seen) {
		leaf_seen = page;
		prefetch_leaf(page);
	}
	int rc = blstore_keycmp(a, b);
	if ((flags & MDBPAGE_BRANCH) && rc >= 0)
		prefetch_child(page, key);
	return rc;
}

static int put_schema(MDB_txn *txn, const struct blstore *s, uint32_t ver)
{
	uint8_t buf[4];
	MDB_val k = {6, "schema"}, v = {4, buf};
	bigend_put32(buf, ver);
	return mdb_put(txn, s->meta, &k, &v, 0);
}

int blstore_schema_get(MDB_txn *txn, const struct blstore *s, uint32_t *ver)
{
	MDB_val k = {6, "schema"}, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc != 0)
		return blstore_err(rc);
	if (v.mv_size != 4)
		return MX_ESCHEMA;
	*ver = bigend_get32(v.mv_data);
	return 0;
}

static int check_schema(struct blstore *s, MDB_txn *txn, int create, char *err, size_t errlen)
{
	uint32_t ver;
	int rc = blstore_schema_get(txn, s, &ver);
	if (rc == MX_ENOTFOUND && create) {
		if ((rc = put_schema(txn, s, BLSTORE_SCHEMA)) != 0) {
			snprintf(err, errlen, "%s: cannot write the schema record: %s", s->path,
				 mdb_strerror(rc));
			return blstore_err(rc);
		}
		s->schema = BLSTORE_SCHEMA;
		return 0;
	}
	if (rc == MX_ENOTFOUND || rc == MX_ESCHEMA) {
		snprintf(err, errlen, "%s: not an mxdns listing database (no schema record)",
			 s->path);
		return MX_ESCHEMA;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: reading the schema record: %s", s->path, mx_strerror(rc));
		return rc;
	}
	if (ver < 1 || ver > BLSTORE_SCHEMA) {
		snprintf(err, errlen,
			 "%s: database schema version %u, this mxdns reads versions 1 to %u%s",
			 s->path, ver, BLSTORE_SCHEMA,
			 ver > BLSTORE_SCHEMA ? " (written by a newer mxdns: upgrade)" : "");
		return MX_ESCHEMA;
	}
	s->schema = ver;
	return 0;
}

static size_t plens_key(uint8_t *buf, uint32_t id)
{
	memcpy(buf, "plen:", 5);
	bigend_put32(buf + 5, id);
	return 9;
}

static size_t filt_key(uint8_t *buf, uint32_t id, int octet)
{
	memcpy(buf, "filt:", 5);
	bigend_put32(buf + 5, id);
	buf[9] = (uint8_t)octet;
	return 10;
}

static size_t fast_key(uint8_t *buf, uint32_t id, int octet)
{
	memcpy(buf, "fast:", 5);
	bigend_put32(buf + 5, id);
	buf[9] = (uint8_t)octet;
	return 10;
}

/* Schema 1 -> 2: the prefix-length record of every list, from one pass
 * over the entries (sorted by list id, so one list at a time), then the
 * new version, all in the caller's write transaction. */
static int upgrade_1_to_2(struct blstore *s, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	struct blstore_plens acc = {0, {0, 0, 0}};
	uint32_t id = 0;
	int have = 0, rc;

	if ((rc = mdb_cursor_open(txn, s->entries, &c)) != 0)
		goto fail;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < BLKEY_HDR)
			continue;
		uint32_t kid = bigend_get32(k.mv_data);
		if (have && kid != id) {
			if ((rc = blstore_plens_merge(txn, s, id, &acc)) != 0)
				goto fail_ours;
			memset(&acc, 0, sizeof(acc));
		}
		id = kid;
		have = 1;
		blstore_plens_note(&acc, k.mv_data, k.mv_size);
	}
	if (rc != MDB_NOTFOUND)
		goto fail;
	if (have && (rc = blstore_plens_merge(txn, s, id, &acc)) != 0)
		goto fail_ours;
	if ((rc = put_schema(txn, s, 2)) != 0)
		goto fail;
	mdb_cursor_close(c);
	s->schema = 2;
	log_info("%s: database upgraded from schema 1 to 2 (prefix-length records)", s->path);
	return 0;
fail:
	rc = blstore_err(rc);
fail_ours:
	if (c)
		mdb_cursor_close(c);
	snprintf(err, errlen, "%s: upgrading the schema from 1 to 2: %s", s->path,
		 mx_strerror(rc));
	return rc;
}

/* Schema 2 -> 3: the filter of every list, from one pass over the entries
 * (sorted by list id: one list's filter in memory at a time), then the
 * new version, all in the caller's write transaction. */
static int upgrade_2_to_3(struct blstore *s, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_cursor *c = NULL;
	struct blfilt *f = blfilt_new();
	MDB_val k, v;
	uint32_t id = 0;
	int have = 0, rc = -ENOMEM;

	if (f == NULL)
		goto fail_ours;
	if ((rc = mdb_cursor_open(txn, s->entries, &c)) != 0)
		goto fail;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < BLKEY_HDR)
			continue;
		uint32_t kid = bigend_get32(k.mv_data);
		if (have && kid != id) {
			if ((rc = blstore_filt_merge(txn, s, id, f)) != 0)
				goto fail_ours;
			blfilt_clear(f);
		}
		id = kid;
		have = 1;
		if ((rc = blstore_filt_note(f, k.mv_data, k.mv_size, v.mv_data, v.mv_size)) != 0)
			goto fail_ours;
	}
	if (rc != MDB_NOTFOUND)
		goto fail;
	if (have && (rc = blstore_filt_merge(txn, s, id, f)) != 0)
		goto fail_ours;
	if ((rc = put_schema(txn, s, 3)) != 0)
		goto fail;
	mdb_cursor_close(c);
	blfilt_free(f);
	s->schema = 3;
	log_info("%s: database upgraded from schema 2 to 3 (/24 filters)", s->path);
	return 0;
fail:
	rc = blstore_err(rc);
fail_ours:
	if (c)
		mdb_cursor_close(c);
	blfilt_free(f);
	snprintf(err, errlen, "%s: upgrading the schema from 2 to 3: %s", s->path,
		 mx_strerror(rc));
	return rc;
}

/* Schema 3 -> 4 (values may refer to "str:" records) and 4 -> 5
 * (version 2 values): new records and values from now on, which is what
 * the version tells older programs; the values written before stay as
 * they are, and readable. */
static int upgrade_mark(struct blstore *s, MDB_txn *txn, const char *what, char *err,
			size_t errlen)
{
	uint32_t to = s->schema + 1;
	int rc = put_schema(txn, s, to);
	if (rc != 0) {
		snprintf(err, errlen, "%s: upgrading the schema from %u to %u: %s", s->path,
			 s->schema, to, mdb_strerror(rc));
		return blstore_err(rc);
	}
	log_info("%s: database upgraded from schema %u to %u (%s)", s->path, s->schema, to, what);
	s->schema = to;
	return 0;
}

/* Schema 5 -> 6: the answer index (blfast.h) of every list, every /8
 * of it, then the new version. The list ids first: the rebuild writes
 * into the database the list records are read from. */
struct idvec {
	uint32_t *id;
	size_t n;
};

static int idvec_add(void *arg, const char *name, const struct blstore_list *l)
{
	struct idvec *v = arg;
	(void)name;
	uint32_t *id = realloc(v->id, (v->n + 1) * sizeof(*id));
	if (id == NULL)
		return -ENOMEM;
	v->id = id;
	v->id[v->n++] = l->id;
	return 0;
}

static int upgrade_5_to_6(struct blstore *s, MDB_txn *txn, char *err, size_t errlen)
{
	struct idvec ids = {NULL, 0};
	uint8_t all[32];
	memset(all, 0xFF, sizeof(all));
	int rc = blstore_list_each(txn, s, idvec_add, &ids);
	for (size_t i = 0; i < ids.n && rc == 0; i++)
		rc = blstore_fast_rebuild(txn, s, ids.id[i], all);
	free(ids.id);
	if (rc != 0) {
		snprintf(err, errlen, "%s: upgrading the schema from 5 to 6: %s", s->path,
			 mx_strerror(rc));
		return rc;
	}
	return upgrade_mark(s, txn, "answer index", err, errlen);
}

/* The open's transaction: the DBI handles, the schema check, a writer's
 * upgrade. Aborted on failure (MX_ELIMIT: the map is full). */
static int open_dbs(struct blstore *s, int rdonly, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	unsigned int dflags = rdonly ? 0 : MDB_CREATE;
	MDB_stat st;
	int rc, mrc, prefetching;

	if ((mrc = mdb_env_stat(s->env, &st)) != 0)
		goto mdb_fail;
	prefetching = rdonly && st.ms_psize == MDBPAGE_SIZE;
	if ((mrc = mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		goto mdb_fail;
	if ((mrc = mdb_dbi_open(txn, "meta", dflags, &s->meta)) != 0) {
		if (mrc == MDB_NOTFOUND) {
			snprintf(err, errlen, "%s: not an mxdns listing database (no meta)",
				 s->path);
			rc = MX_ESCHEMA;
			goto fail;
		}
		goto mdb_fail;
	}
	if ((rc = check_schema(s, txn, !rdonly, err, errlen)) != 0)
		goto fail;
	if ((mrc = mdb_dbi_open(txn, "entries", dflags, &s->entries)) != 0 ||
	    (mrc = mdb_set_compare(txn, s->entries, prefetching ? keycmp_reader : blstore_keycmp)) != 0)
		goto mdb_fail;
	if (s->schema == 1 && !rdonly && (rc = upgrade_1_to_2(s, txn, err, errlen)) != 0)
		goto fail;
	if (s->schema == 2 && !rdonly && (rc = upgrade_2_to_3(s, txn, err, errlen)) != 0)
		goto fail;
	if (s->schema == 3 && !rdonly &&
	    (rc = upgrade_mark(s, txn, "shared reason texts", err, errlen)) != 0)
		goto fail;
	if (s->schema == 4 && !rdonly &&
	    (rc = upgrade_mark(s, txn, "smaller values", err, errlen)) != 0)
		goto fail;
	if (s->schema == 5 && !rdonly && (rc = upgrade_5_to_6(s, txn, err, errlen)) != 0)
		goto fail;
	/* Committing (even a read-only txn) keeps the DBI handles open. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0)
		goto mdb_fail;
	return 0;

mdb_fail:
	snprintf(err, errlen, "%s: %s", s->path, mdb_strerror(mrc));
	rc = blstore_err(mrc);
fail:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

int blstore_open(const char *path, int flags, struct blstore **out, char *err, size_t errlen)
{
	struct blstore *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM, mrc;
	int rdonly = flags & BLSTORE_RDONLY;
	struct stat st;

	*out = NULL;
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	s->flags = flags;
	if (!(flags & BLSTORE_CREATE) && stat(path, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s (create it with `mxdns bl add` or `import`)", path,
			 strerror(errno));
		goto fail;
	}
	size_t mapsize = MIN_MAPSIZE;
	if (rdonly)
		mapsize = READER_MAPSIZE;
	else if (stat(path, &st) == 0 && (size_t)st.st_size * 2 > mapsize)
		mapsize = (size_t)st.st_size * 2;
	/* Tests start writers with a tiny map to exercise growth, and the
	 * daemon with a small one to exercise its remap. */
	const char *env = getenv(rdonly ? "MXDNS_BLSTORE_READER_MAPSIZE" : "MXDNS_BLSTORE_MAPSIZE");
	if (env && strtoull(env, NULL, 10) > 0)
		mapsize = (size_t)strtoull(env, NULL, 10);
	unsigned int eflags = MDB_NOSUBDIR;
	if (rdonly)
		eflags |= MDB_RDONLY | MDB_NOTLS;
	for (;;) {
		if ((mrc = mdb_env_create(&s->env)) != 0 ||
		    (mrc = mdb_env_set_maxdbs(s->env, 4)) != 0 ||
		    (mrc = mdb_env_set_maxreaders(s->env, MAX_READERS)) != 0 ||
		    (mrc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
			goto mdb_fail;
		mrc = mdb_env_open(s->env, path, eflags, 0644);
		/* Address space can be limited (ulimit -v, valgrind): a
		 * reader then settles for a smaller map, down to twice the
		 * file (a failed open must discard its environment). */
		if (!rdonly || (mrc != ENOMEM && mrc != EINVAL) ||
		    mapsize / 2 < (size_t)st.st_size * 2 || mapsize / 2 < MIN_MAPSIZE)
			break;
		mdb_env_close(s->env);
		s->env = NULL;
		mapsize /= 2;
	}
	if (mrc != 0)
		goto mdb_fail;
	/* An upgrade can outgrow a writer's map (a list's filter takes up to
	 * 3 MB): grow it and run the transaction again. */
	while ((rc = open_dbs(s, rdonly, err, errlen)) == MX_ELIMIT && !rdonly) {
		MDB_envinfo info;
		mdb_env_info(s->env, &info);
		if (info.me_mapsize * 2 > MAX_MAPSIZE ||
		    mdb_env_set_mapsize(s->env, info.me_mapsize * 2) != 0)
			break;
		log_debug("%s: map grown to %zu bytes for the upgrade", path, info.me_mapsize * 2);
	}
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;

mdb_fail:
	snprintf(err, errlen, "%s: %s", path, mdb_strerror(mrc));
	rc = blstore_err(mrc);
fail:
	blstore_close(s);
	return rc;
}

void blstore_close(struct blstore *s)
{
	if (s == NULL)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s->path);
	free(s);
}

/* ---- lists ---- */

static size_t list_key(uint8_t *buf, size_t cap, const char *name)
{
	return (size_t)snprintf((char *)buf, cap, "list:%s", name);
}

static int decode_list(const MDB_val *v, struct blstore_list *out)
{
	if (v->mv_size < 16)
		return MX_EMALFORMED;
	const uint8_t *p = v->mv_data;
	out->id = bigend_get32(p);
	out->ttl = bigend_get32(p + 4);
	out->created = bigend_get64(p + 8);
	return 0;
}

int blstore_list_get(MDB_txn *txn, const struct blstore *s, const char *name,
		     struct blstore_list *out)
{
	uint8_t kb[300];
	if (strlen(name) > 250 || name[0] == 0)
		return MX_EINVAL;
	MDB_val k = {list_key(kb, sizeof(kb), name), kb}, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc != 0)
		return blstore_err(rc);
	return decode_list(&v, out);
}

int blstore_list_put(MDB_txn *txn, const struct blstore *s, const char *name,
		     const struct blstore_list *l)
{
	uint8_t kb[300], vb[16];
	MDB_val k = {list_key(kb, sizeof(kb), name), kb}, v = {16, vb};
	bigend_put32(vb, l->id);
	bigend_put32(vb + 4, l->ttl);
	bigend_put64(vb + 8, l->created);
	return blstore_err(mdb_put(txn, s->meta, &k, &v, 0));
}

int blstore_list_ensure(MDB_txn *txn, const struct blstore *s, const char *name,
			struct blstore_list *out)
{
	int rc = blstore_list_get(txn, s, name, out);
	if (rc != MX_ENOTFOUND)
		return rc;
	uint8_t ib[16];
	out->id = blkey_list_id(name);
	out->ttl = 0;
	out->created = (uint64_t)time(NULL);
	memcpy(ib, "id:", 3);
	bigend_put32(ib + 3, out->id);
	MDB_val k = {7, ib}, v = {strlen(name), (void *)name};
	rc = mdb_put(txn, s->meta, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return MX_EEXIST; /* another name hashes to this id */
	if (rc != 0)
		return blstore_err(rc);
	return blstore_list_put(txn, s, name, out);
}

int blstore_list_each(MDB_txn *txn, const struct blstore *s,
		      int (*fn)(void *arg, const char *name, const struct blstore_list *l),
		      void *arg)
{
	MDB_cursor *c = NULL;
	MDB_val k = {5, "list:"}, v;
	char name[300];
	int rc = mdb_cursor_open(txn, s->meta, &c);
	if (rc != 0)
		return blstore_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct blstore_list l;
		if (k.mv_size < 5 || memcmp(k.mv_data, "list:", 5) != 0 || k.mv_size - 5 >= sizeof(name))
			break;
		memcpy(name, (char *)k.mv_data + 5, k.mv_size - 5);
		name[k.mv_size - 5] = 0;
		if (decode_list(&v, &l) != 0)
			continue;
		int r = fn(arg, name, &l);
		if (r != 0) {
			mdb_cursor_close(c);
			return r;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : blstore_err(rc);
}

int blstore_list_clear(MDB_txn *txn, const struct blstore *s, uint32_t id, size_t *n_deleted)
{
	MDB_cursor *c = NULL;
	uint8_t pre[4];
	bigend_put32(pre, id);
	MDB_val k = {4, pre}, v;
	size_t n = 0;
	int rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc != 0)
		return blstore_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= 4 && memcmp(k.mv_data, pre, 4) == 0) {
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		n++;
		/* After a delete, MDB_NEXT yields the item that took its place. */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (n_deleted)
		*n_deleted = n;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return blstore_err(rc);
	/* No entry left: no length used, nothing in any /24 (the writer
	 * merges what it writes next). */
	uint8_t pk[10];
	k.mv_size = plens_key(pk, id);
	k.mv_data = pk;
	rc = mdb_del(txn, s->meta, &k, NULL);
	for (int o = 0; o < 256 && (rc == 0 || rc == MDB_NOTFOUND); o++) {
		k.mv_size = filt_key(pk, id, o);
		rc = mdb_del(txn, s->meta, &k, NULL);
		if (rc == 0 || rc == MDB_NOTFOUND) {
			k.mv_size = fast_key(pk, id, o);
			rc = mdb_del(txn, s->meta, &k, NULL);
		}
	}
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : blstore_err(rc);
}

/* ---- prefix lengths ---- */

void blstore_plens_all(struct blstore_plens *p)
{
	p->ip4 = ((uint64_t)1 << 33) - 1;
	p->ip6[0] = p->ip6[1] = UINT64_MAX;
	p->ip6[2] = 1; /* /128 */
}

void blstore_plens_note(struct blstore_plens *p, const uint8_t *key, size_t len)
{
	if (len == BLKEY_HDR + 5 && key[4] == BLKEY_IP4 && key[BLKEY_HDR + 4] <= 32)
		p->ip4 |= (uint64_t)1 << key[BLKEY_HDR + 4];
	else if (len == BLKEY_HDR + 17 && key[4] == BLKEY_IP6 && key[BLKEY_HDR + 16] <= 128)
		p->ip6[key[BLKEY_HDR + 16] / 64] |= (uint64_t)1 << (key[BLKEY_HDR + 16] % 64);
}

/* The record as stored (none: empty), whatever the schema. */
static int plens_read(MDB_txn *txn, const struct blstore *s, uint32_t id,
		      struct blstore_plens *out)
{
	uint8_t kb[9];
	MDB_val k = {plens_key(kb, id), kb}, v;

	memset(out, 0, sizeof(*out));
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return blstore_err(rc);
	if (v.mv_size != 32)
		return MX_EMALFORMED;
	out->ip4 = bigend_get64(v.mv_data);
	for (int i = 0; i < 3; i++)
		out->ip6[i] = bigend_get64((const uint8_t *)v.mv_data + 8 + 8 * i);
	return 0;
}

int blstore_plens_get(MDB_txn *txn, const struct blstore *s, uint32_t id,
		      struct blstore_plens *out)
{
	if (s->schema < 2) {
		blstore_plens_all(out); /* no records to trust */
		return 0;
	}
	return plens_read(txn, s, id, out);
}

int blstore_plens_merge(MDB_txn *txn, const struct blstore *s, uint32_t id,
			const struct blstore_plens *add)
{
	struct blstore_plens p;
	uint8_t kb[9], vb[32];
	int rc = plens_read(txn, s, id, &p);
	if (rc != 0)
		return rc;
	if ((p.ip4 | add->ip4) == p.ip4 && (p.ip6[0] | add->ip6[0]) == p.ip6[0] &&
	    (p.ip6[1] | add->ip6[1]) == p.ip6[1] && (p.ip6[2] | add->ip6[2]) == p.ip6[2])
		return 0; /* nothing new: no write */
	bigend_put64(vb, p.ip4 | add->ip4);
	for (int i = 0; i < 3; i++)
		bigend_put64(vb + 8 + 8 * i, p.ip6[i] | add->ip6[i]);
	MDB_val k = {plens_key(kb, id), kb}, v = {32, vb};
	return blstore_err(mdb_put(txn, s->meta, &k, &v, 0));
}

/* ---- /24 filters ---- */

int blstore_filt_chunk(MDB_txn *txn, const struct blstore *s, uint32_t id, int octet,
		       const uint8_t **chunk)
{
	uint8_t kb[10];
	MDB_val k = {filt_key(kb, id, octet), kb}, v;

	*chunk = NULL;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return blstore_err(rc);
	if (v.mv_size != BLFILT_CHUNK)
		return MX_EMALFORMED;
	*chunk = v.mv_data;
	return 0;
}

int blstore_filt_note(struct blfilt *f, const uint8_t *key, size_t klen, const uint8_t *val,
		      size_t vlen)
{
	if (klen != BLKEY_HDR + 5 || key[4] != BLKEY_IP4 || key[BLKEY_HDR + 4] > 32)
		return 0;
	/* An exclusion only takes addresses out. A value we cannot read
	 * counts as positive: setting a bit is never wrong. */
	if (vlen >= 2 && (val[0] == 1 || val[0] == BLVAL_VERSION) && (val[1] & BLVAL_EXCLUDE))
		return 0;
	return blfilt_add(f, key + BLKEY_HDR, key[BLKEY_HDR + 4]);
}

/* Stores one chunk (NULL: deletes it). */
static int filt_store(MDB_txn *txn, const struct blstore *s, uint32_t id, int octet,
		      const uint8_t *chunk)
{
	uint8_t kb[10];
	MDB_val k = {filt_key(kb, id, octet), kb}, v = {BLFILT_CHUNK, (void *)chunk};
	int rc = chunk ? mdb_put(txn, s->meta, &k, &v, 0) : mdb_del(txn, s->meta, &k, NULL);
	return rc == MDB_NOTFOUND && chunk == NULL ? 0 : blstore_err(rc);
}

int blstore_filt_merge(MDB_txn *txn, const struct blstore *s, uint32_t id, struct blfilt *f)
{
	for (int o = 0; o < 256; o++) {
		uint8_t *c = f->chunk[o];
		const uint8_t *old;
		if (c == NULL)
			continue;
		int rc = blstore_filt_chunk(txn, s, id, o, &old);
		if (rc == MX_EMALFORMED)
			return blstore_filt_rebuild(txn, s, id);
		if (rc != 0)
			return rc;
		if (old) {
			/* old points into the map: read it before our put */
			for (size_t i = 0; i < BLFILT_CHUNK; i++)
				c[i] |= old[i];
			if (memcmp(c, old, BLFILT_CHUNK) == 0)
				continue; /* no new bit: no copy-on-write of 8 KB */
		}
		if ((rc = filt_store(txn, s, id, o, c)) != 0)
			return rc;
	}
	return 0;
}

int blstore_filt_rebuild(MDB_txn *txn, const struct blstore *s, uint32_t id)
{
	struct blfilt *f = blfilt_new();
	MDB_cursor *c = NULL;
	uint8_t pre[BLKEY_HDR];
	MDB_val k = {BLKEY_HDR, pre}, v;
	int rc = -ENOMEM, mrc;

	bigend_put32(pre, id);
	pre[4] = BLKEY_IP4;
	if (f == NULL)
		goto out;
	if ((mrc = mdb_cursor_open(txn, s->entries, &c)) != 0) {
		rc = blstore_err(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     mrc == 0 && k.mv_size >= BLKEY_HDR && memcmp(k.mv_data, pre, BLKEY_HDR) == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((rc = blstore_filt_note(f, k.mv_data, k.mv_size, v.mv_data, v.mv_size)) != 0)
			goto out;
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		rc = blstore_err(mrc);
		goto out;
	}
	rc = 0;
	for (int o = 0; o < 256 && rc == 0; o++) {
		const uint8_t *old;
		int r = blstore_filt_chunk(txn, s, id, o, &old);
		if (r != 0 && r != MX_EMALFORMED)
			rc = r;
		else if (r == MX_EMALFORMED || (old == NULL) != (f->chunk[o] == NULL) ||
			 (old && memcmp(old, f->chunk[o], BLFILT_CHUNK) != 0))
			rc = filt_store(txn, s, id, o, f->chunk[o]);
	}
out:
	if (c)
		mdb_cursor_close(c);
	blfilt_free(f);
	return rc;
}

/* ---- answer index (blfast.h) ---- */

void blstore_fast_touch(uint8_t octets[32], const uint8_t *key, size_t klen)
{
	int first, last;
	if (klen != BLKEY_HDR + 5 || key[4] != BLKEY_IP4)
		return;
	blfilt_span(key + BLKEY_HDR, key[BLKEY_HDR + 4], &first, &last);
	for (int o = first; o <= last; o++)
		octets[o >> 3] |= (uint8_t)(1 << (o & 7));
}

int blstore_fast_get(MDB_txn *txn, const struct blstore *s, uint32_t id, int octet,
		     const uint8_t **rec)
{
	uint8_t kb[10];
	MDB_val k = {fast_key(kb, id, octet), kb}, v;
	*rec = NULL;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return blstore_err(rc);
	if (!blfast_valid(v.mv_data, v.mv_size))
		return MX_EMALFORMED;
	*rec = v.mv_data;
	return 0;
}

/* The answers a /8's entries give, as the rebuild meets them: a value
 * whose codes and reason are those of an earlier one counts for it. */
#define FAST_ANSWERS 8
struct fastscan {
	struct blfast_ent *ents;
	uint8_t *ans; /* per entry: its answer's index, or FAST_ANSWERS */
	size_t n, cap;
	struct blval val[FAST_ANSWERS];
	const uint8_t *raw[FAST_ANSWERS]; /* in the map: copied before any write */
	size_t rawlen[FAST_ANSWERS];
	size_t count[FAST_ANSWERS];
	int n_ans;
};

static int same_answer(const struct blval *a, const struct blval *b)
{
	return a->n_codes == b->n_codes && memcmp(a->codes, b->codes, (size_t)a->n_codes * 4) == 0 &&
	       (a->flags & BLVAL_REASON_REF) == (b->flags & BLVAL_REASON_REF) &&
	       a->reason_len == b->reason_len && memcmp(a->reason, b->reason, a->reason_len) == 0;
}

/* Notes one entry (or the cover, plen < 8) and what it answers. */
static int fastscan_add(struct fastscan *f, const uint8_t addr[4], int plen, const MDB_val *v)
{
	struct blval val;
	if (blval_decode(v->mv_data, v->mv_size, &val) != 0)
		return MX_EMALFORMED;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct blfast_ent *e = realloc(f->ents, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		f->ents = e;
		uint8_t *a = realloc(f->ans, cap);
		if (a == NULL)
			return -ENOMEM;
		f->ans = a;
		f->cap = cap;
	}
	struct blfast_ent *e = &f->ents[f->n];
	memcpy(e->addr, addr, 4);
	e->plen = (uint8_t)plen;
	/* Anything that depends on the time goes to the B-tree. */
	e->cls = (val.flags & BLVAL_EXPIRES) ? BLFAST_OTHER
		 : (val.flags & BLVAL_EXCLUDE) ? BLFAST_NONE
					       : BLFAST_USUAL;
	uint8_t a = FAST_ANSWERS;
	if (e->cls == BLFAST_USUAL) {
		for (int i = 0; i < f->n_ans && a == FAST_ANSWERS; i++)
			if (same_answer(&f->val[i], &val))
				a = (uint8_t)i;
		if (a == FAST_ANSWERS && f->n_ans < FAST_ANSWERS && v->mv_size <= BLFAST_VAL_MAX) {
			a = (uint8_t)f->n_ans++;
			f->val[a] = val;
			f->raw[a] = v->mv_data;
			f->rawlen[a] = v->mv_size;
			f->count[a] = 0;
		}
		if (a < FAST_ANSWERS)
			f->count[a]++;
	}
	f->ans[f->n++] = a;
	return 0;
}

/* Rebuilds (or deletes) the record of /8 o of list id from its entries. */
static int fast_rebuild_one(MDB_txn *txn, const struct blstore *s, MDB_cursor *c, uint32_t id,
			    int o, struct fastscan *f)
{
	uint8_t base[4] = {(uint8_t)o, 0, 0, 0}, probe[BLKEY_HDR + 5], kb[10], *rec = NULL;
	struct blstore_hit cover;
	MDB_val k, v;
	size_t len;
	int rc;

	f->n = 0;
	f->n_ans = 0;
	/* The longest prefix shorter than /8 over it (now 0: expired or not,
	 * an entry with an expiry makes its addresses ask the B-tree). */
	if ((rc = blstore_match_ip(c, id, BLKEY_IP4, base, 7, NULL, 0, &cover)) != 0)
		return rc;
	if (cover.what != BLM_NONE) {
		/* match_ip leaves the cursor on the entry it found. */
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) != 0)
			return blstore_err(rc);
		if ((rc = fastscan_add(f, base, 0, &v)) != 0)
			return rc;
	}
	/* (o.0.0.0, length 0): before every entry of the /8. */
	k.mv_size = blkey_ip(probe, id, BLKEY_IP4, base, 8);
	k.mv_data = probe;
	probe[BLKEY_HDR + 4] = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		if (k.mv_size != sizeof(probe) || memcmp(kp, probe, BLKEY_HDR) != 0 ||
		    kp[BLKEY_HDR] != o)
			break;
		if (kp[BLKEY_HDR + 4] < 8)
			continue; /* (o.0.0.0, <8): the cover's business */
		if ((rc = fastscan_add(f, kp + BLKEY_HDR, kp[BLKEY_HDR + 4], &v)) != 0)
			return rc;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return blstore_err(rc);

	/* The usual answer: the one most listings give. */
	int usual = -1;
	for (int i = 0; i < f->n_ans; i++)
		if (usual < 0 || f->count[i] > f->count[usual])
			usual = i;
	enum blfast_class cover_cls = BLFAST_NONE;
	size_t first = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->ents[i].cls == BLFAST_USUAL && f->ans[i] != usual)
			f->ents[i].cls = BLFAST_OTHER;
	if (cover.what != BLM_NONE) {
		cover_cls = f->ents[0].cls;
		first = 1;
	}
	rc = blfast_build(o, cover_cls, f->n > first ? f->ents + first : NULL, f->n - first,
			  usual < 0 ? NULL : f->raw[usual], usual < 0 ? 0 : f->rawlen[usual], &rec,
			  &len);
	if (rc != 0)
		return rc;
	k.mv_size = fast_key(kb, id, o);
	k.mv_data = kb;
	v.mv_size = len;
	v.mv_data = rec;
	rc = rec ? mdb_put(txn, s->meta, &k, &v, 0) : mdb_del(txn, s->meta, &k, NULL);
	free(rec);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : blstore_err(rc);
}

int blstore_fast_rebuild(MDB_txn *txn, const struct blstore *s, uint32_t id,
			 const uint8_t octets[32])
{
	struct fastscan f = {0};
	MDB_cursor *c = NULL;
	int rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc != 0)
		return blstore_err(rc);
	for (int o = 0; o < 256 && rc == 0; o++)
		if (octets[o >> 3] & (1 << (o & 7)))
			rc = fast_rebuild_one(txn, s, c, id, o, &f);
	mdb_cursor_close(c);
	free(f.ents);
	free(f.ans);
	return rc;
}

/* ---- lookups ---- */

static int expired(const struct blval *v, uint64_t now)
{
	return now && (v->flags & BLVAL_EXPIRES) && v->expires <= now;
}

/* Common leading bits of a and b (bytes long). */
static int common_bits(const uint8_t *a, const uint8_t *b, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t x = a[i] ^ b[i];
		if (x) {
			int n = 8 * i;
			while (!(x & 0x80)) {
				x <<= 1;
				n++;
			}
			return n;
		}
	}
	return bytes * 8;
}

/* The greatest key <= probe (the cursor is left on it). */
static int seek_le(MDB_cursor *c, const uint8_t *probe, size_t plen, MDB_val *k, MDB_val *v)
{
	k->mv_size = plen;
	k->mv_data = (void *)probe;
	int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == plen && memcmp(k->mv_data, probe, plen) == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	if (rc != 0)
		return rc;
	return mdb_cursor_get(c, k, v, MDB_PREV);
}

/* The longest length <= p that some entry of this family has (every
 * length when m is NULL), or -1. */
static int plens_floor(const struct blstore_plens *m, int type, int p)
{
	if (p < 0 || m == NULL)
		return p;
	if (type == BLKEY_IP4) {
		uint64_t b = m->ip4 & (((uint64_t)2 << p) - 1); /* p <= 32 */
		return b ? 63 - __builtin_clzll(b) : -1;
	}
	for (int w = p / 64; w >= 0; w--) {
		uint64_t b = m->ip6[w];
		if (w == p / 64 && p % 64 != 63)
			b &= ((uint64_t)2 << (p % 64)) - 1;
		if (b)
			return 64 * w + 63 - __builtin_clzll(b);
	}
	return -1;
}

/* Why this finds the longest match: every prefix (N, l) containing A is a
 * key <= (A & mask(p), p) for p >= l. Take the greatest key K = (n, l) <=
 * that probe. If K contains A, no longer prefix containing A can exist
 * (its key would lie between K and the probe). If not, let c be the number
 * of leading bits A and n share: a prefix containing A that sorts before K
 * is at most c bits long, so seek again at (A & mask(c), c). Each round
 * shortens the probe. Expired entries are skipped the same way (continue
 * below their length).
 * The probe length is also lowered to the longest length the list uses
 * (plens): no entry lies between (A & mask(p), p) and the probe at that
 * length. In a list of /32s and /24s, an unlisted address is one seek
 * unless its neighbour shares 24 bits with it; without plens the rounds
 * walk c down through every length (3 to 5 seeks for a random address in
 * a list of a million). */
int blstore_match_ip(MDB_cursor *c, uint32_t id, int type, const uint8_t *addr, int maxplen,
		     const struct blstore_plens *plens, uint64_t now, struct blstore_hit *hit)
{
	uint8_t probe[BLKEY_HDR + 17];
	int bytes = type == BLKEY_IP4 ? 4 : 16;
	int p = plens_floor(plens, type, maxplen);
	MDB_val k, v;

	hit->what = BLM_NONE;
	while (p >= 0) {
		size_t klen = blkey_ip(probe, id, type, addr, p);
		int rc = seek_le(c, probe, klen, &k, &v);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return blstore_err(rc);
		const uint8_t *kb = k.mv_data;
		if (k.mv_size != klen || memcmp(kb, probe, BLKEY_HDR) != 0)
			return 0; /* nothing of this list and type at or before */
		int l = kb[BLKEY_HDR + bytes];
		int cb = common_bits(kb + BLKEY_HDR, addr, bytes);
		if (l > bytes * 8)
			return MX_EMALFORMED;
		if (cb >= l) { /* K contains A */
			struct blval val;
			if (blval_decode(v.mv_data, v.mv_size, &val) != 0)
				return MX_EMALFORMED;
			if (expired(&val, now)) {
				p = plens_floor(plens, type, l - 1);
				continue;
			}
			hit->what = (val.flags & BLVAL_EXCLUDE) ? BLM_EXCLUDED : BLM_LISTED;
			hit->val = val;
			hit->key = kb;
			hit->key_len = k.mv_size;
			return 0;
		}
		p = plens_floor(plens, type, cb < p ? cb : p - 1);
	}
	return 0;
}

int blstore_ip_exists(MDB_cursor *c, uint32_t id, int type, const uint8_t *addr, int plen,
		      const struct blstore_plens *plens, uint64_t now, int *exists)
{
	uint8_t probe[BLKEY_HDR + 17];
	int bytes = type == BLKEY_IP4 ? 4 : 16;
	size_t klen = blkey_ip(probe, id, type, addr, plen);
	MDB_val k = {klen, probe}, v;
	struct blstore_hit hit;

	*exists = 0;
	probe[klen - 1] = 0; /* (A/plen, 0): before every entry inside the prefix */
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return blstore_err(rc);
	if (rc == 0 && k.mv_size == klen && memcmp(k.mv_data, probe, BLKEY_HDR) == 0 &&
	    common_bits((const uint8_t *)k.mv_data + BLKEY_HDR, probe + BLKEY_HDR, bytes) >= plen) {
		*exists = 1;
		return 0;
	}
	rc = blstore_match_ip(c, id, type, addr, plen, plens, now, &hit);
	if (rc != 0)
		return rc;
	*exists = hit.what == BLM_LISTED;
	return 0;
}

/* The reversed-label form of wire: labels top-down each followed by 0.
 * ends[i] is the length after the i-th label from the top. */
static int reverse_labels(uint32_t id, const uint8_t *wire, uint8_t *key, size_t *ends, int *n)
{
	int len = blkey_domain(key, id, wire, BLKEY_EXACT);
	if (len < 0)
		return len;
	*n = 0;
	for (int i = BLKEY_HDR; i < len - 1; i++)
		if (key[i] == 0)
			ends[(*n)++] = (size_t)i + 1;
	return len;
}

static int get_entry(MDB_cursor *c, const uint8_t *key, size_t len, uint64_t now,
		     struct blstore_hit *hit)
{
	MDB_val k = {len, (void *)key}, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return blstore_err(rc);
	struct blval val;
	if (blval_decode(v.mv_data, v.mv_size, &val) != 0)
		return MX_EMALFORMED;
	if (expired(&val, now))
		return 0;
	hit->what = (val.flags & BLVAL_EXCLUDE) ? BLM_EXCLUDED : BLM_LISTED;
	hit->val = val;
	hit->key = k.mv_data;
	hit->key_len = k.mv_size;
	return 0;
}

int blstore_match_domain(MDB_cursor *c, uint32_t id, const uint8_t *wire, uint64_t now,
			 struct blstore_hit *hit)
{
	uint8_t key[BLKEY_MAX];
	size_t ends[NAME_MAXLABELS + 1];
	int n;

	hit->what = BLM_NONE;
	int len = reverse_labels(id, wire, key, ends, &n);
	if (len < 0)
		return 0; /* a name the codec cannot hold is listed nowhere */
	int rc = get_entry(c, key, (size_t)len, now, hit);
	if (rc != 0 || hit->what != BLM_NONE)
		return rc;
	/* Wildcards from the parent up: the deepest wins. */
	for (int i = n - 2; i >= 0; i--) {
		key[ends[i]] = BLKEY_WILD;
		rc = get_entry(c, key, ends[i] + 1, now, hit);
		if (rc != 0 || hit->what != BLM_NONE)
			return rc;
	}
	return 0;
}

int blstore_domain_below(MDB_cursor *c, uint32_t id, const uint8_t *wire, int *exists)
{
	uint8_t key[BLKEY_MAX];
	size_t ends[NAME_MAXLABELS + 1];
	int n;

	*exists = 0;
	int len = reverse_labels(id, wire, key, ends, &n);
	if (len < 0)
		return 0;
	key[len - 1] = BLKEY_EXACT + 1; /* past the name's own entries */
	MDB_val k = {(size_t)len, key}, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return blstore_err(rc);
	*exists = k.mv_size > (size_t)len && memcmp(k.mv_data, key, (size_t)len - 1) == 0;
	return 0;
}

/* ---- writing ---- */

int blstore_write(struct blstore *s, int (*fn)(MDB_txn *txn, void *arg), void *arg, char *err,
		  size_t errlen)
{
	for (;;) {
		MDB_txn *txn = NULL;
		int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", s->path, mdb_strerror(rc));
			return blstore_err(rc);
		}
		int full = 0;
		rc = fn(txn, arg);
		if (rc == MX_ELIMIT) {
			full = 1;
			mdb_txn_abort(txn);
		} else if (rc != 0) {
			mdb_txn_abort(txn);
			return rc;
		} else {
			int mrc = mdb_txn_commit(txn);
			if (mrc == MDB_MAP_FULL) {
				full = 1;
			} else if (mrc != 0) {
				snprintf(err, errlen, "%s: commit: %s", s->path, mdb_strerror(mrc));
				return blstore_err(mrc);
			} else {
				return 0;
			}
		}
		if (!full)
			return 0;
		/* No transaction of ours is active now, which mdb_env_set_mapsize
		 * requires; the aborted one left committed data untouched. */
		MDB_envinfo info;
		mdb_env_info(s->env, &info);
		size_t next = info.me_mapsize * 2;
		if (next > MAX_MAPSIZE || mdb_env_set_mapsize(s->env, next) != 0) {
			snprintf(err, errlen, "%s: database full at %zu bytes", s->path,
				 info.me_mapsize);
			return MX_ELIMIT;
		}
		log_debug("%s: map grown to %zu bytes", s->path, next);
	}
}

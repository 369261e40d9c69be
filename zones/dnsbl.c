/* dnsbl: DNSBL zones answered from LMDB (RFC 5782).
 *
 * Three things live here:
 *  - the process-wide registry of open environments: LMDB allows one
 *    MDB_env per file per process, so zones on the same database share
 *    one, reference counted (zones and worker read slots both hold refs);
 *  - the per-worker read slots: one read transaction and cursor per
 *    environment, renewed lazily and reset every few milliseconds so new
 *    commits are seen and the writer can reuse old pages (STYLE.md #9);
 *  - the lookup: query name -> typed keys -> entries -> answer, without
 *    allocating. The only pointers into the map kept beyond a lookup are
 *    the filter chunks, each tagged with the snapshot it belongs to. */
#include "dnsbl.h"

#include "blfast.h"
#include "blkey.h"
#include "blstore.h"
#include "config.h"
#include "errcode.h"
#include "log.h"
#include "zone.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENVS 64 /* the bits of dnsbl_readers.used */
#define MAX_CACHED_LISTS 16
#define RENEW_MS 5

struct blenv {
	char *path;
	struct blstore *store;
	int slot;
	int refs;            /* zones + reader slots; under reg_lock */
	_Atomic int zrefs;   /* zones only: 0 tells readers to let go */
	_Atomic int resize_pending;
	_Atomic unsigned mapgen; /* counts remaps: pointers into the map die */
	/* The newest snapshot (txn id) a worker has answered from. A worker
	 * on an older one renews before answering, so a client whose query
	 * saw a commit never sees it undone by its next query, whichever
	 * worker takes that one. */
	_Atomic size_t newest;
	/* Held shared by every worker whose transaction is live, exclusively
	 * to remap after the writer grew the file past our map
	 * (mdb_env_set_mapsize requires no live transaction). */
	pthread_rwlock_t maplock;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct blenv *reg[MAX_ENVS];

struct dnsbl_zone {
	struct blenv *env;
	uint32_t *ids;
	size_t n_lists;
	uint32_t ttl;
	struct config_acl *acl;
	size_t n_acl;
};

/* A worker's view of one IPv4 list's /24 filter (blfilt.h): chunk[o] is
 * the chunk of /8 o as fetched under the read transaction whose id
 * (mdb_txn_id) is tag[o]. Such a pointer into the map stays valid as long
 * as the worker reads that same snapshot: a transaction renewed on an
 * unchanged database keeps its id, and every commit makes a new one (and
 * a remap, which moves the map, empties the cache: mapgen). So a chunk is
 * fetched once per /8 per commit, and a lookup is one bit test. Tag 0:
 * not fetched (no snapshot a reader can open has id 0: the writer that
 * created the schema record committed). */
struct filtcache {
	uint32_t id;
	unsigned long bound; /* the slot activation that last used it; 0 free */
	size_t tag[256];
	const uint8_t *chunk[256]; /* NULL: nothing listed in that /8, or fast[] holds it */
	/* The /8's answer index record (blfast.h), fetched with the chunk
	 * and checked once; NULL: none (before schema 6, nothing listed, or
	 * a record that failed the check): the chunk and the B-tree say. */
	const uint8_t *fast[256];
};

/* What a read transaction learns once about a list: which key types it
 * holds, so a zone answers only the query forms its lists contain, and
 * which prefix lengths, so an address lookup probes only those. */
struct listinfo {
	uint32_t id;
	uint8_t mask; /* 1 ip4, 2 ip6, 4 domain */
	struct blstore_plens plens;
	struct filtcache *fc; /* NULL: no filter (schema < 3, no IPv4, too many lists) */
};

struct rslot {
	struct blenv *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	int active;
	uint64_t since_ms;
	struct listinfo types[MAX_CACHED_LISTS];
	int n_types;
	size_t txnid;         /* of the live transaction */
	int filters;          /* its snapshot has filters (schema 3 on) */
	unsigned long act;    /* activations so far */
	unsigned mapgen;      /* the env's mapgen when fc was last valid */
	struct filtcache *fc; /* MAX_CACHED_LISTS of them, allocated with the slot */
};

struct dnsbl_readers {
	struct rslot s[MAX_ENVS];
	/* Bit i: s[i] may hold an env (set when it takes one, cleared by the
	 * refresh that finds it empty), so that the refresh before every
	 * batch reads the slots in use, not all 64 (a server without DNSBL
	 * zones reads none). */
	uint64_t used;
	uint64_t now_ms;
};

/* ---- registry ---- */

static struct blenv *env_get(const char *path, char *err, size_t errlen)
{
	struct blenv *e = NULL;
	int free_slot = -1;

	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < MAX_ENVS; i++) {
		if (reg[i] && strcmp(reg[i]->path, path) == 0) {
			e = reg[i];
			e->refs++;
			atomic_fetch_add(&e->zrefs, 1);
			goto out;
		}
		if (!reg[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		snprintf(err, errlen, "%s: too many DNSBL databases (at most %d)", path, MAX_ENVS);
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (blstore_open(path, BLSTORE_RDONLY, &e->store, err, errlen) != 0)
		goto fail;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&e->maplock, &attr);
	pthread_rwlockattr_destroy(&attr);
	e->slot = free_slot;
	e->refs = 1;
	atomic_store(&e->zrefs, 1);
	reg[free_slot] = e;
	goto out;
fail:
	if (e)
		free(e->path);
	free(e);
	e = NULL;
out:
	pthread_mutex_unlock(&reg_lock);
	return e;
}

static void env_unref(struct blenv *e)
{
	pthread_mutex_lock(&reg_lock);
	int last = --e->refs == 0;
	if (last)
		reg[e->slot] = NULL;
	pthread_mutex_unlock(&reg_lock);
	if (!last)
		return;
	blstore_close(e->store);
	pthread_rwlock_destroy(&e->maplock);
	free(e->path);
	free(e);
}

static void env_ref(struct blenv *e)
{
	pthread_mutex_lock(&reg_lock);
	e->refs++;
	pthread_mutex_unlock(&reg_lock);
}

/* ---- zones ---- */

struct zone *dnsbl_zone_load(const struct config_dnsbl *cfg, char *err, size_t errlen)
{
	struct dnsbl_zone *bz = calloc(1, sizeof(*bz));
	struct zone *z = NULL;
	char *text = NULL;
	size_t cap = 1024;
	char e2[512];

	if (bz == NULL)
		goto oom;
	bz->ttl = cfg->ttl;
	bz->n_lists = cfg->n_lists;
	if (cfg->n_lists == 0 || (bz->ids = calloc(cfg->n_lists, sizeof(*bz->ids))) == NULL) {
		if (cfg->n_lists == 0) {
			snprintf(err, errlen, "dnsbl %s: no list to serve", cfg->name);
			goto fail;
		}
		goto oom;
	}
	for (size_t i = 0; i < cfg->n_lists; i++)
		bz->ids[i] = blkey_list_id(cfg->lists[i]);
	if (cfg->n_acl) {
		bz->acl = calloc(cfg->n_acl, sizeof(*bz->acl));
		if (bz->acl == NULL)
			goto oom;
		memcpy(bz->acl, cfg->acl, cfg->n_acl * sizeof(*bz->acl));
		bz->n_acl = cfg->n_acl;
	}

	/* The apex: SOA and NS from the configuration, negative TTL as the
	 * SOA minimum (RFC 2308 §4). */
	for (size_t i = 0; i < cfg->n_ns; i++)
		cap += strlen(cfg->ns[i]) + 32;
	if ((text = malloc(cap)) == NULL)
		goto oom;
	size_t o = (size_t)snprintf(text, cap, "$TTL %u\n@ SOA %s %s %lu 3600 600 604800 %u\n",
				    cfg->ttl, cfg->soa_mname, cfg->soa_rname,
				    (unsigned long)time(NULL), cfg->neg_ttl);
	for (size_t i = 0; i < cfg->n_ns && o < cap; i++)
		o += (size_t)snprintf(text + o, cap - o, "@ NS %s%s\n", cfg->ns[i],
				      cfg->ns[i][strlen(cfg->ns[i]) - 1] == '.' ? "" : ".");
	z = zone_from_text(cfg->name, text, cfg->name, e2, sizeof(e2));
	if (z == NULL) {
		snprintf(err, errlen, "dnsbl %s: apex records: %s", cfg->name, e2);
		goto fail;
	}
	bz->env = env_get(cfg->db, e2, sizeof(e2));
	if (bz->env == NULL) {
		snprintf(err, errlen, "dnsbl %s: %s", cfg->name, e2);
		goto fail;
	}
	z->bl = bz;
	free(text);
	return z;
oom:
	snprintf(err, errlen, "dnsbl %s: out of memory", cfg->name);
fail:
	free(text);
	if (z)
		zone_unref(z); /* z->bl is not set yet */
	dnsbl_zone_free(bz);
	return NULL;
}

void dnsbl_zone_free(struct dnsbl_zone *bz)
{
	if (bz == NULL)
		return;
	if (bz->env) {
		atomic_fetch_sub(&bz->env->zrefs, 1);
		env_unref(bz->env);
	}
	free(bz->ids);
	free(bz->acl);
	free(bz);
}

/* ---- readers ---- */

struct dnsbl_readers *dnsbl_readers_new(void)
{
	return calloc(1, sizeof(struct dnsbl_readers));
}

static void slot_deactivate(struct rslot *s)
{
	if (!s->active)
		return;
	mdb_txn_reset(s->txn);
	pthread_rwlock_unlock(&s->env->maplock);
	s->active = 0;
}

static void slot_drop(struct rslot *s)
{
	if (!s->env)
		return;
	slot_deactivate(s);
	if (s->cur)
		mdb_cursor_close(s->cur);
	if (s->txn)
		mdb_txn_abort(s->txn);
	env_unref(s->env);
	free(s->fc);
	memset(s, 0, sizeof(*s));
}

static void try_resize(struct blenv *e)
{
	if (pthread_rwlock_trywrlock(&e->maplock) != 0)
		return;
	if (atomic_load(&e->resize_pending)) {
		/* 0: adopt the size the writer recorded in the file. */
		int rc = mdb_env_set_mapsize(e->store->env, 0);
		if (rc != 0)
			log_err("%s: cannot remap the grown database: %s", e->path,
				mdb_strerror(rc));
		else
			log_info("%s: database grew, remapped", e->path);
		atomic_fetch_add(&e->mapgen, 1); /* even on failure: be safe */
		atomic_store(&e->resize_pending, 0);
	}
	pthread_rwlock_unlock(&e->maplock);
}

void dnsbl_readers_free(struct dnsbl_readers *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < MAX_ENVS; i++)
		slot_drop(&r->s[i]);
	free(r);
}

void dnsbl_readers_refresh(struct dnsbl_readers *r, uint64_t now_ms)
{
	r->now_ms = now_ms;
	for (uint64_t bits = r->used; bits; bits &= bits - 1) {
		int i = __builtin_ctzll(bits);
		struct rslot *s = &r->s[i];
		if (!s->env) {
			r->used &= ~(1ull << i);
			continue;
		}
		if (atomic_load(&s->env->zrefs) == 0) {
			slot_drop(s); /* no zone serves this database any more */
			continue;
		}
		if (s->active && (now_ms - s->since_ms >= RENEW_MS ||
				  atomic_load(&s->env->resize_pending)))
			slot_deactivate(s);
		if (!s->active && atomic_load(&s->env->resize_pending))
			try_resize(s->env);
	}
}

void dnsbl_readers_reset(struct dnsbl_readers *r)
{
	for (int i = 0; i < MAX_ENVS; i++)
		if (r->s[i].env)
			slot_deactivate(&r->s[i]);
}

/* The worker's live transaction on e, or NULL (SERVFAIL). Allocates only
 * the first time this worker reads this database. */
static struct rslot *slot_acquire(struct dnsbl_readers *r, struct blenv *e)
{
	struct rslot *s = &r->s[e->slot];
	int rc;

	if (s->env && s->env != e)
		slot_drop(s); /* cannot happen while we hold a ref; be safe */
	if (s->active) {
		if (s->txnid >= atomic_load_explicit(&e->newest, memory_order_acquire))
			return s;
		slot_deactivate(s);
	}
	if (atomic_load(&e->resize_pending))
		try_resize(e);
	if (pthread_rwlock_tryrdlock(&e->maplock) != 0)
		return NULL; /* a remap is under way: a moment of SERVFAIL */
	if (s->env == NULL) {
		s->fc = calloc(MAX_CACHED_LISTS, sizeof(*s->fc));
		rc = s->fc ? mdb_txn_begin(e->store->env, NULL, MDB_RDONLY, &s->txn) : ENOMEM;
		if (rc == 0 && (rc = mdb_cursor_open(s->txn, e->store->entries, &s->cur)) != 0) {
			mdb_txn_abort(s->txn);
			s->txn = NULL;
		}
		if (rc != 0) {
			free(s->fc);
			s->fc = NULL;
			goto fail;
		}
		env_ref(e);
		s->env = e;
		r->used |= 1ull << e->slot;
		s->mapgen = atomic_load(&e->mapgen);
	} else {
		rc = mdb_txn_renew(s->txn);
		if (rc == 0)
			rc = mdb_cursor_renew(s->txn, s->cur);
		if (rc != 0) {
			/* Start afresh next time with a new transaction. */
			pthread_rwlock_unlock(&e->maplock);
			slot_drop(s);
			if (rc == MDB_MAP_RESIZED)
				atomic_store(&e->resize_pending, 1);
			else
				log_err("%s: read transaction: %s", e->path, mdb_strerror(rc));
			return NULL;
		}
	}
	s->active = 1;
	s->since_ms = r->now_ms;
	s->n_types = 0;
	s->act++;
	s->txnid = mdb_txn_id(s->txn);
	size_t seen = atomic_load_explicit(&e->newest, memory_order_relaxed);
	while (seen < s->txnid &&
	       !atomic_compare_exchange_weak_explicit(&e->newest, &seen, s->txnid,
						      memory_order_release, memory_order_relaxed))
		;
	uint32_t ver = 0;
	s->filters = blstore_schema_get(s->txn, e->store, &ver) == 0 && ver >= 3;
	if (s->mapgen != atomic_load(&e->mapgen)) {
		for (int i = 0; i < MAX_CACHED_LISTS; i++)
			s->fc[i].bound = 0;
		s->mapgen = atomic_load(&e->mapgen);
	}
	return s;
fail:
	pthread_rwlock_unlock(&e->maplock);
	if (rc == MDB_MAP_RESIZED)
		atomic_store(&e->resize_pending, 1);
	else
		log_err("%s: read transaction: %s", e->path, mdb_strerror(rc));
	return NULL;
}

/* The filter cache of list id for this activation: the one it had, else
 * one no list of this activation uses (there is one: at most
 * MAX_CACHED_LISTS lists get one per activation), emptied. */
static struct filtcache *filt_bind(struct rslot *s, uint32_t id)
{
	struct filtcache *spare = NULL;
	for (int i = 0; i < MAX_CACHED_LISTS; i++) {
		struct filtcache *f = &s->fc[i];
		if (f->bound && f->id == id) {
			f->bound = s->act;
			return f;
		}
		if (f->bound != s->act && (spare == NULL || !f->bound))
			spare = f;
	}
	if (spare == NULL)
		return NULL;
	spare->id = id;
	spare->bound = s->act;
	memset(spare->tag, 0, sizeof(spare->tag));
	return spare;
}

/* The list's info if this transaction has learnt it already, else NULL. */
static const struct listinfo *list_info_cached(const struct rslot *s, uint32_t id)
{
	for (int i = 0; i < s->n_types; i++)
		if (s->types[i].id == id)
			return &s->types[i];
	return NULL;
}

/* The list's info in this transaction: cached in the slot, or in *spare
 * when the cache is full. */
static const struct listinfo *list_info(struct rslot *s, uint32_t id, struct listinfo *spare)
{
	const struct listinfo *known = list_info_cached(s, id);
	if (known)
		return known;
	struct listinfo *li = s->n_types < MAX_CACHED_LISTS ? &s->types[s->n_types++] : spare;
	static const uint8_t types[3] = {BLKEY_IP4, BLKEY_IP6, BLKEY_DOM};
	li->id = id;
	li->mask = 0;
	for (int t = 0; t < 3; t++) {
		uint8_t pre[BLKEY_HDR] = {(uint8_t)(id >> 24), (uint8_t)(id >> 16),
					  (uint8_t)(id >> 8), (uint8_t)id, types[t]};
		MDB_val k = {BLKEY_HDR, pre}, v;
		if (mdb_cursor_get(s->cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size > BLKEY_HDR &&
		    memcmp(k.mv_data, pre, BLKEY_HDR) == 0)
			li->mask |= (uint8_t)(1 << t);
	}
	/* Unreadable: probe every length (slower, still right). */
	if (blstore_plens_get(s->txn, s->env->store, id, &li->plens) != 0)
		blstore_plens_all(&li->plens);
	li->fc = s->filters && (li->mask & 1) && li != spare ? filt_bind(s, id) : NULL;
	return li;
}

/* ---- lookup ---- */

/* The slot's cursor, made to descend from the root. A cursor left on the
 * last lookup's leaf page makes LMDB compare the key with that page's
 * first and last keys before it descends: cache misses on a page that
 * DNSBL traffic, which has no locality, almost never uses again (10 %
 * of a lookup on the bench's 1M set). Renewing a read-only cursor in its
 * own transaction only resets it; it cannot fail here, and a cursor that
 * was not reset still finds the same entries. */
static MDB_cursor *cursor_fresh(struct rslot *s)
{
	(void)mdb_cursor_renew(s->txn, s->cur);
	return s->cur;
}

/* What the list's /8 records say of a4 without the B-tree: the answer
 * index if the /8 has one, else the /24 filter (a clear bit: unlisted;
 * a set one: walk). They are fetched (mdb_get) only when the cached ones
 * are from another snapshot, and the filter chunk only for a /8 without
 * an index record. A chunk that cannot be read (`mxdns bl prune`
 * rewrites it) is not cached: every lookup in its /8 walks the B-tree,
 * slower and still right. */
static enum blfast_verdict filt_verdict(const struct rslot *s, struct filtcache *f,
					const uint8_t a4[4])
{
	unsigned o = a4[0];
	if (f->tag[o] != s->txnid) {
		const uint8_t *chunk = NULL, *fast;
		if (blstore_fast_get(s->txn, s->env->store, f->id, (int)o, &fast) != 0)
			fast = NULL;
		if (fast == NULL &&
		    blstore_filt_chunk(s->txn, s->env->store, f->id, (int)o, &chunk) != 0)
			return BLFAST_WALK;
		f->chunk[o] = chunk;
		f->fast[o] = fast;
		f->tag[o] = s->txnid;
	}
	if (f->fast[o])
		return blfast_lookup(f->fast[o], a4);
	return blfilt_test(f->chunk[o], a4) ? BLFAST_WALK : BLFAST_UNLISTED;
}

void dnsbl_name_set(struct dnsbl_name *n, const uint8_t *rel, size_t len, int labels)
{
	n->rel = rel;
	n->len = len;
	n->labels = labels;
	n->n4 = -1;
	if (labels <= 4 && len > 0 && len <= NAME_MAXLEN - 1)
		n->n4 = blkey_parse_ip4(rel, len, labels, n->a4);
}

size_t dnsbl_warm_addrs(const struct dnsbl_zone *bz, struct dnsbl_readers *r,
			const struct dnsbl_name *nm, int stage, const void *at[DNSBL_WARM_MAX])
{
	const uint8_t *a4 = nm->a4;
	size_t n = 0;
	if (nm->n4 != 4)
		return 0;
	/* Only a live snapshot: beginning one is the lookup's work. */
	const struct rslot *s = &r->s[bz->env->slot];
	if (!s->active || s->env != bz->env)
		return 0;
	for (size_t i = 0; i < bz->n_lists && n < DNSBL_WARM_MAX; i++) {
		const struct listinfo *li = list_info_cached(s, bz->ids[i]);
		const struct filtcache *f = li ? li->fc : NULL;
		if (f == NULL || f->tag[a4[0]] != s->txnid)
			continue;
		const uint8_t *fast = f->fast[a4[0]];
		if (fast && stage == 0) {
			at[n++] = blfast_bit_addr(fast, a4);
			if (n < DNSBL_WARM_MAX)
				at[n++] = blfast_rank_addr(fast, a4);
		} else if (fast) {
			/* The bit and rank are in cache now: the slot. */
			const uint8_t *slot = blfast_slot(fast, a4);
			if (slot)
				at[n++] = slot;
		} else if (f->chunk[a4[0]] && stage == 0) {
			at[n++] = blfilt_byte(f->chunk[a4[0]], a4);
		}
	}
	return n;
}

static int net_match(const struct config_net *n, int family, const uint8_t *a)
{
	if (n->family != family)
		return 0;
	int bytes = n->prefix / 8, bits = n->prefix % 8;
	if (memcmp(n->addr, a, (size_t)bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	uint8_t m = (uint8_t)(0xFF << (8 - bits));
	return (n->addr[bytes] & m) == (a[bytes] & m);
}

static enum config_acl_action acl_check(const struct dnsbl_zone *bz, const struct sockaddr *sa)
{
	int family;
	const uint8_t *a;
	if (bz->n_acl == 0 || sa == NULL)
		return ACL_ALLOW;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		family = AF_INET6;
		a = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			a += 12;
		}
	} else {
		return ACL_ALLOW;
	}
	for (size_t i = 0; i < bz->n_acl; i++)
		if (net_match(&bz->acl[i].net, family, a))
			return bz->acl[i].action;
	return ACL_ALLOW;
}

static void add_code(struct dnsbl_answer *out, const uint8_t code[4])
{
	for (int i = 0; i < out->n_codes; i++)
		if (memcmp(out->codes[i], code, 4) == 0)
			return;
	if (out->n_codes < DNSBL_MAX_CODES)
		memcpy(out->codes[out->n_codes++], code, 4);
}

/* Renders the TXT template into RDATA strings of at most 255 bytes (RFC
 * 1035 §3.3.14): "$" becomes the queried subject, "$$" a dollar sign, as
 * rbldnsd does. Too long a text is cut at DNSBL_TXT_MAX. */
static void render_txt(struct dnsbl_answer *out, const char *tpl, size_t tlen, const char *subj)
{
	uint8_t *t = out->txt;
	size_t o = 0, lenpos = 0, cur = 0, slen = strlen(subj);
	const size_t cap = DNSBL_TXT_MAX;

#define PUTC(ch)                                                    \
	do {                                                        \
		if (cur == 255 || o == 0) {                         \
			if (o + 2 > cap)                            \
				goto done;                          \
			lenpos = o++;                               \
			t[lenpos] = 0;                              \
			cur = 0;                                    \
		}                                                   \
		if (o + 1 > cap)                                    \
			goto done;                                  \
		t[o++] = (uint8_t)(ch);                             \
		t[lenpos] = (uint8_t)++cur;                         \
	} while (0)

	for (size_t i = 0; i < tlen; i++) {
		if (tpl[i] == '$') {
			if (i + 1 < tlen && tpl[i + 1] == '$') {
				PUTC('$');
				i++;
				continue;
			}
			for (size_t j = 0; j < slen; j++)
				PUTC(subj[j]);
			continue;
		}
		PUTC(tpl[i]);
	}
#undef PUTC
done:
	out->txt_len = (uint16_t)o;
}

static void set_listed_code(struct dnsbl_answer *out, uint8_t last, const char *why, int want_txt)
{
	const uint8_t code[4] = {127, last >= 254 ? 255 : 0, last >= 254 ? 255 : 0, last};
	out->status = DNSBL_LISTED;
	add_code(out, code);
	if (want_txt && out->txt_len == 0)
		render_txt(out, why, strlen(why), "");
}

/* What "$" stands for in a listed entry's reason: the queried address,
 * or for domain data the listed entry (rbldnsd(8)), a wildcard's base. */
static void subject(int kind, const uint8_t *a4, const uint8_t *a6, const struct blstore_hit *hit,
		    char *subj, size_t cap)
{
	int kt;
	if (kind == BLKEY_IP4 || kind == BLKEY_IP6) {
		inet_ntop(kind == BLKEY_IP4 ? AF_INET : AF_INET6, kind == BLKEY_IP4 ? a4 : a6, subj,
			  (socklen_t)cap);
		return;
	}
	if (blkey_to_text(hit->key, hit->key_len, subj, cap, &kt) < 0)
		subj[0] = 0;
	else if (subj[0] == '*' && subj[1] == '.')
		memmove(subj, subj + 2, strlen(subj + 2) + 1);
}

void dnsbl_lookup(const struct dnsbl_zone *bz, struct dnsbl_readers *r, const struct dnsbl_name *nm,
		  const struct sockaddr *client, uint64_t now, int want_txt, struct dnsbl_answer *out)
{
	const uint8_t *rel = nm->rel, *a4 = nm->a4;
	size_t rel_len = nm->len;
	int rel_labels = nm->labels, n4 = nm->n4, n6 = -1, force = 0;
	uint8_t a6[16], wire[NAME_MAXLEN + 1];
	char subj[NAME_MAXLEN * 4 + 1];

	out->status = DNSBL_NXDOMAIN;
	out->n_codes = 0;
	out->txt_len = 0;
	out->ttl = bz->ttl;

	switch (acl_check(bz, client)) {
	case ACL_REFUSE:
		out->status = DNSBL_REFUSED;
		return;
	case ACL_DENY_CODE:
		if (rel_len)
			set_listed_code(out, 254, "Query refused", want_txt);
		else
			out->status = DNSBL_NODATA;
		return;
	case ACL_QUOTA_CODE:
		if (rel_len)
			set_listed_code(out, 255, "Query quota exceeded", want_txt);
		else
			out->status = DNSBL_NODATA;
		return;
	case ACL_ALLOW:
		break;
	}
	if (rel_len == 0 || rel_len > NAME_MAXLEN - 1) {
		out->status = rel_len == 0 ? DNSBL_NODATA : DNSBL_NXDOMAIN;
		return;
	}
	if (rel_labels <= 32)
		n6 = blkey_parse_ip6(rel, rel_len, rel_labels, a6);

	/* RFC 5782 §5: the test points answer the same whatever the data. */
	static const uint8_t v6mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	if (n4 == 4 && a4[0] == 127 && a4[1] == 0 && a4[2] == 0 && (a4[3] == 1 || a4[3] == 2)) {
		if (a4[3] == 1)
			return;
		force = 1;
	}
	if (n6 == 32 && memcmp(a6, v6mapped, 12) == 0 && a6[12] == 127 && a6[13] == 0 &&
	    a6[14] == 0 && (a6[15] == 1 || a6[15] == 2)) {
		if (a6[15] == 1)
			return;
		force = 1;
	}
	if (rel_labels == 1 && rel[0] == 7 && memcmp(rel + 1, "invalid", 7) == 0)
		return;
	if (rel_labels == 1 && rel[0] == 4 && memcmp(rel + 1, "test", 4) == 0)
		force = 1;

	struct rslot *s = slot_acquire(r, bz->env);
	if (s == NULL) {
		out->status = DNSBL_SERVFAIL;
		return;
	}
	int exists = 0, have_wire = 0;
	for (size_t i = 0; i < bz->n_lists; i++) {
		uint32_t id = bz->ids[i];
		struct listinfo spare;
		const struct listinfo *li = list_info(s, id, &spare);
		uint8_t types = li->mask;
		struct blstore_hit hit;
		int rc = 0, kind = 0; /* the BLKEY_ type of a listed match */
		/* The /8's records answer most addresses without a walk.
		 * (IPv6 and domains have none: see blstore.h.) */
		enum blfast_verdict fv = BLFAST_WALK;
		if ((types & 1) && n4 == 4 && li->fc)
			fv = filt_verdict(s, li->fc, a4);
		if (fv == BLFAST_LISTED) {
			size_t vlen;
			const uint8_t *val = blfast_value(li->fc->fast[a4[0]], &vlen);
			if (blval_decode(val, vlen, &hit.val) != 0) {
				fv = BLFAST_WALK;
			} else {
				hit.what = BLM_LISTED;
				kind = BLKEY_IP4;
			}
		}
		if ((types & 1) && n4 == 4 && fv == BLFAST_WALK) {
			rc = blstore_match_ip(cursor_fresh(s), id, BLKEY_IP4, a4, 32, &li->plens, now, &hit);
			if (rc == 0 && hit.what == BLM_LISTED)
				kind = BLKEY_IP4;
		}
		if (rc == 0 && !kind && (types & 2) && n6 == 32) {
			rc = blstore_match_ip(cursor_fresh(s), id, BLKEY_IP6, a6, 128, &li->plens, now, &hit);
			if (rc == 0 && hit.what == BLM_LISTED)
				kind = BLKEY_IP6;
		}
		if ((types & 4) && !have_wire) { /* the name as a domain */
			memcpy(wire, rel, rel_len);
			wire[rel_len] = 0;
			have_wire = 1;
		}
		if (rc == 0 && !kind && (types & 4)) {
			rc = blstore_match_domain(cursor_fresh(s), id, wire, now, &hit);
			if (rc == 0 && hit.what == BLM_LISTED)
				kind = BLKEY_DOM;
		}
		if (rc != 0) {
			out->status = DNSBL_SERVFAIL;
			return;
		}
		if (kind) {
			out->status = DNSBL_LISTED;
			for (int c = 0; c < hit.val.n_codes; c++)
				add_code(out, hit.val.codes[c]);
			/* The subject text only when a TXT will carry it. */
			if (want_txt && out->txt_len == 0 && hit.val.reason_len) {
				if (blstore_val_strings(s->txn, s->env->store, &hit.val) != 0) {
					out->status = DNSBL_SERVFAIL;
					return;
				}
				subject(kind, a4, a6, &hit, subj, sizeof(subj));
				render_txt(out, hit.val.reason, hit.val.reason_len, subj);
			}
			continue;
		}
		if (exists || out->status == DNSBL_LISTED)
			continue;
		/* RFC 8020: a name with listings below it exists (NODATA). */
		if ((types & 1) && n4 > 0 && n4 < 4)
			rc = blstore_ip_exists(s->cur, id, BLKEY_IP4, a4, 8 * n4, &li->plens, now,
					       &exists);
		if (rc == 0 && !exists && (types & 2) && n6 > 0 && n6 < 32)
			rc = blstore_ip_exists(s->cur, id, BLKEY_IP6, a6, 4 * n6, &li->plens, now,
					       &exists);
		if (rc == 0 && !exists && (types & 4))
			rc = blstore_domain_below(s->cur, id, wire, &exists);
		if (rc != 0) {
			out->status = DNSBL_SERVFAIL;
			return;
		}
	}
	if (out->status != DNSBL_LISTED && force) {
		static const uint8_t two[4] = {127, 0, 0, 2};
		out->status = DNSBL_LISTED;
		add_code(out, two);
		if (want_txt)
			render_txt(out, "RFC 5782 test point", 19, "");
	}
	if (out->status != DNSBL_LISTED && exists)
		out->status = DNSBL_NODATA;
}

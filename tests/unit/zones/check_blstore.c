/* check_blstore: the LMDB listing store. Longest-prefix match against a
 * brute-force oracle on random nested prefixes and exclusions, expiry,
 * domain wildcards and RFC 8020 existence, value encoding, schema
 * refusal and upgrades, map growth without losing committed data, and the
 * /24 filters: every listed address that any test looks up must have its
 * /24 in the filter, and writers keep, merge and rebuild it. */
#include "blimport.h"
#include "blkey.h"
#include "blstore.h"
#include "errcode.h"
#include "name.h"

#include <arpa/inet.h>
#include <check.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char dir[] = "/tmp/check_blstore.XXXXXX";
static char path[300];
static char err[1024];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bl.mdb", dir);
}

static void teardown(void)
{
	char lock[320];
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	unsetenv("MXDNS_BLSTORE_MAPSIZE");
}

static struct blstore *open_rw(void)
{
	struct blstore *s = NULL;
	int rc = blstore_open(path, BLSTORE_CREATE, &s, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	return s;
}

/* Adds entries ("TEXT" or "!TEXT") to list L with code 127.0.0.CODE. */
static int add(struct blstore *s, const char *list, const char **entries, int n, uint8_t code,
	       uint64_t expires, int force)
{
	struct blimport im;
	struct blval v = {0};
	struct blapply_opts ao = {BLAPPLY_PUT, 0, force, {1e40, 1e40}, 0};
	struct blapply_result r;
	v.n_codes = 1;
	v.codes[0][0] = 127;
	v.codes[0][3] = code;
	v.reason = "r $";
	v.reason_len = 3;
	if (expires) {
		v.flags = BLVAL_EXPIRES;
		v.expires = expires;
	}
	blimport_init(&im);
	for (int i = 0; i < n; i++) {
		int ex = entries[i][0] == '!';
		ck_assert_int_eq(blimport_entry_add(&im, list, entries[i] + ex, ex, &v, err, sizeof(err)), 0);
	}
	blimport_sort(&im);
	int rc = blimport_apply(s, &im, &ao, &r, err, sizeof(err));
	blimport_cleanup(&im);
	return rc;
}

/* What a read transaction finds for an address: 0 none, -1 excluded, else
 * the last octet of the code. */
static int lookup(struct blstore *s, const char *list, const char *addr, uint64_t now)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t a[16], wire[256];
	int plen, kinds, res = 0;
	struct blstore_hit h;
	int t = blkey_parse_entry(addr, a, &plen, wire, &kinds);
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	uint32_t id = blkey_list_id(list);
	if (t == BLKEY_DOM) {
		ck_assert_int_eq(blstore_match_domain(c, id, wire, now, &h), 0);
	} else {
		/* Probing only the recorded lengths finds what probing every
		 * length finds: the same entry. */
		struct blstore_plens pl;
		struct blstore_hit all;
		int max = t == BLKEY_IP4 ? 32 : 128;
		ck_assert_int_eq(blstore_plens_get(txn, s, id, &pl), 0);
		ck_assert_int_eq(blstore_match_ip(c, id, t, a, max, NULL, now, &all), 0);
		ck_assert_int_eq(blstore_match_ip(c, id, t, a, max, &pl, now, &h), 0);
		ck_assert_int_eq(h.what, all.what);
		if (h.what != BLM_NONE)
			ck_assert_ptr_eq(h.key, all.key);
	}
	if (h.what == BLM_EXCLUDED)
		res = -1;
	else if (h.what == BLM_LISTED)
		res = h.val.codes[0][3];
	/* The filter may never hide a listed address (the daemon would
	 * answer NXDOMAIN without looking). */
	uint32_t ver = 0;
	ck_assert_int_eq(blstore_schema_get(txn, s, &ver), 0);
	if (t == BLKEY_IP4 && h.what == BLM_LISTED && ver >= 3) {
		const uint8_t *chunk;
		ck_assert_int_eq(blstore_filt_chunk(txn, s, id, a[0], &chunk), 0);
		ck_assert_msg(blfilt_test(chunk, a), "%s is listed, its /24 not in the filter", addr);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return res;
}

/* The filter bit of addr's /24 in list: 1, 0, or -1 when its chunk is
 * absent. */
static int filt_bit(struct blstore *s, const char *list, const char *addr)
{
	MDB_txn *txn;
	uint8_t a[4];
	const uint8_t *chunk;
	ck_assert_int_eq(inet_pton(AF_INET, addr, a), 1);
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(blstore_filt_chunk(txn, s, blkey_list_id(list), a[0], &chunk), 0);
	int res = chunk ? blfilt_test(chunk, a) : -1;
	mdb_txn_abort(txn);
	return res;
}

/* How many filter chunks list has, and their set bits. */
static int filt_chunks(struct blstore *s, const char *list, size_t *bits)
{
	MDB_txn *txn;
	int n = 0;
	*bits = 0;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	for (int o = 0; o < 256; o++) {
		const uint8_t *chunk;
		ck_assert_int_eq(blstore_filt_chunk(txn, s, blkey_list_id(list), o, &chunk), 0);
		if (chunk == NULL)
			continue;
		n++;
		for (int i = 0; i < BLFILT_CHUNK; i++)
			*bits += (size_t)__builtin_popcount(chunk[i]);
	}
	mdb_txn_abort(txn);
	return n;
}

/* Deletes entries (plain syntax) from list. */
static void del(struct blstore *s, const char *list, const char *entry)
{
	struct blimport im;
	struct blval v = {0};
	struct blapply_opts ao = {BLAPPLY_DEL, 0, 1, {1e40, 1e40}, 0};
	struct blapply_result r;
	blimport_init(&im);
	ck_assert_int_eq(blimport_entry_add(&im, list, entry, 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	ck_assert_msg(blimport_apply(s, &im, &ao, &r, err, sizeof(err)) == 0, "%s", err);
	blimport_cleanup(&im);
}

/* Runs blstore_filt_rebuild for list in a write transaction of its own. */
static void rebuild(struct blstore *s, const char *list)
{
	MDB_txn *txn;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(blstore_filt_rebuild(txn, s, blkey_list_id(list)), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

START_TEST(lpm_nested_and_exclusions)
{
	struct blstore *s = open_rw();
	const char *e[] = {"10.0.0.0/8", "10.1.0.0/16", "!10.1.2.0/24", "10.1.2.128/25",
			   "!10.1.2.200", "10.200.0.0/16", "192.0.2.0/24", "0.0.0.0/1"};
	/* each its own code so we see which entry won */
	for (int i = 0; i < 8; i++)
		ck_assert_msg(add(s, "l", &e[i], 1, (uint8_t)(10 + i), 0, 1) == 0, "%s", err);
	ck_assert_int_eq(lookup(s, "l", "10.9.9.9", 0), 10);
	ck_assert_int_eq(lookup(s, "l", "10.1.9.9", 0), 11);
	ck_assert_int_eq(lookup(s, "l", "10.1.2.3", 0), -1);
	ck_assert_int_eq(lookup(s, "l", "10.1.2.129", 0), 13);
	ck_assert_int_eq(lookup(s, "l", "10.1.2.200", 0), -1);
	ck_assert_int_eq(lookup(s, "l", "10.1.3.0", 0), 11);   /* after the /24: back to /16 */
	ck_assert_int_eq(lookup(s, "l", "10.199.0.1", 0), 10); /* between siblings */
	ck_assert_int_eq(lookup(s, "l", "10.255.0.1", 0), 10); /* after the last sibling */
	ck_assert_int_eq(lookup(s, "l", "192.0.2.255", 0), 16);
	ck_assert_int_eq(lookup(s, "l", "192.0.3.0", 0), 0);
	ck_assert_int_eq(lookup(s, "l", "9.255.255.255", 0), 17);
	ck_assert_int_eq(lookup(s, "l", "0.0.0.0", 0), 17);
	/* another list does not see these */
	ck_assert_int_eq(lookup(s, "other", "10.9.9.9", 0), 0);
	blstore_close(s);
}
END_TEST

/* Random nested prefixes and exclusions vs a brute-force longest match. */
START_TEST(lpm_random_oracle)
{
	struct blstore *s = open_rw();
	enum { N = 400, Q = 4000 };
	static uint32_t net[N];
	static int len[N], code[N];
	char text[N][40];
	const char *ptr[N];
	srand(12345);
	for (int i = 0; i < N; i++) {
		/* cluster in 10.0.0.0/12 so prefixes nest a lot */
		uint32_t a = 0x0A000000u | ((uint32_t)rand() & 0x000FFFFFu);
		int l = 8 + rand() % 25;
		uint32_t m = l ? 0xFFFFFFFFu << (32 - l) : 0;
		net[i] = a & m;
		len[i] = l;
		snprintf(text[i], sizeof(text[i]), "%s%u.%u.%u.%u/%d", rand() % 4 == 0 ? "!" : "",
			 net[i] >> 24, (net[i] >> 16) & 255, (net[i] >> 8) & 255, net[i] & 255, l);
		ptr[i] = text[i];
	}
	/* one entry per distinct prefix: the last wins (as the importer does) */
	for (int i = 0; i < N; i++)
		code[i] = text[i][0] == '!' ? -1 : 1 + i % 200;
	for (int i = 0; i < N; i++)
		ck_assert_msg(add(s, "r", &ptr[i], 1, (uint8_t)(code[i] < 0 ? 0 : code[i]), 0, 1) == 0,
			      "%s", err);
	for (int q = 0; q < Q; q++) {
		uint32_t a = 0x0A000000u | ((uint32_t)rand() & 0x000FFFFFu);
		if (q % 3 == 0)
			a = net[rand() % N] + (uint32_t)(rand() % 3); /* near the edges */
		int best = -1, want = 0;
		for (int i = 0; i < N; i++) {
			uint32_t m = len[i] ? 0xFFFFFFFFu << (32 - len[i]) : 0;
			if ((a & m) == net[i] && len[i] >= best) {
				/* equal prefixes: the later one replaced the earlier */
				best = len[i];
				want = code[i];
			}
		}
		char qt[40];
		snprintf(qt, sizeof(qt), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		int got = lookup(s, "r", qt, 0);
		ck_assert_msg(got == want, "%s: got %d want %d", qt, got, want);
	}
	blstore_close(s);
}
END_TEST

START_TEST(ipv6_and_expiry)
{
	struct blstore *s = open_rw();
	const char *e[] = {"2001:db8::/32", "!2001:db8:1::/48"};
	const char *e2[] = {"2001:db8:1:2::/64"};
	ck_assert_int_eq(add(s, "l", e, 2, 2, 0, 0), 0);
	ck_assert_int_eq(add(s, "l", e2, 1, 3, 1000, 0), 0); /* expires at t=1000 */
	ck_assert_int_eq(lookup(s, "l", "2001:db8::1", 500), 2);
	ck_assert_int_eq(lookup(s, "l", "2001:db8:1::1", 500), -1);
	ck_assert_int_eq(lookup(s, "l", "2001:db8:1:2::1", 500), 3);
	/* expired: the next most specific entry answers */
	ck_assert_int_eq(lookup(s, "l", "2001:db8:1:2::1", 1000), -1);
	ck_assert_int_eq(lookup(s, "l", "2001:db9::1", 500), 0);
	blstore_close(s);
}
END_TEST

/* IPv6 prefixes on both sides of the 64-bit words of the length record
 * (0, 1, 63, 64, 65, 127, 128) vs a brute-force longest match. */
START_TEST(lpm_random_oracle_ip6)
{
	struct blstore *s = open_rw();
	enum { N = 300, Q = 3000 };
	static const int lens[] = {0, 1, 7, 32, 48, 63, 64, 65, 100, 127, 128};
	static uint8_t net[N][16];
	static int len[N], code[N];
	char text[N][60];
	const char *ptr[N];
	srand(777);
	for (int i = 0; i < N; i++) {
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
		for (int b = 4; b < 16; b++)
			a[b] = (uint8_t)(rand() & (b < 8 ? 0x03 : 0xFF)); /* nest a lot */
		int l = i == 0 ? 0 : lens[1 + rand() % 10];
		for (int b = 0; b < 16; b++) {
			int bits = l - 8 * b;
			a[b] &= bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
		}
		memcpy(net[i], a, 16);
		len[i] = l;
		char at[50];
		inet_ntop(AF_INET6, a, at, sizeof(at));
		snprintf(text[i], sizeof(text[i]), "%s%s/%d", i && rand() % 4 == 0 ? "!" : "", at, l);
		ptr[i] = text[i];
		code[i] = text[i][0] == '!' ? -1 : 1 + i % 200;
	}
	for (int i = 0; i < N; i++)
		ck_assert_msg(add(s, "r6", &ptr[i], 1, (uint8_t)(code[i] < 0 ? 0 : code[i]), 0, 1) == 0,
			      "%s", err);
	for (int q = 0; q < Q; q++) {
		uint8_t a[16];
		memcpy(a, net[rand() % N], 16);
		for (int b = 4 + rand() % 12; b < 16; b++)
			a[b] = (uint8_t)rand();
		int best = -1, want = 0;
		for (int i = 0; i < N; i++) {
			int in = 1;
			for (int b = 0; b < 16 && in; b++) {
				int bits = len[i] - 8 * b;
				uint8_t m = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
				in = (a[b] & m) == net[i][b];
			}
			if (in && len[i] >= best) {
				best = len[i];
				want = code[i];
			}
		}
		char qt[50];
		inet_ntop(AF_INET6, a, qt, sizeof(qt));
		int got = lookup(s, "r6", qt, 0);
		ck_assert_msg(got == want, "%s: got %d want %d", qt, got, want);
	}
	blstore_close(s);
}
END_TEST

static void plens_of(struct blstore *s, const char *list, struct blstore_plens *pl)
{
	MDB_txn *txn;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(blstore_plens_get(txn, s, blkey_list_id(list), pl), 0);
	mdb_txn_abort(txn);
}

/* The prefix-length record: what writers put in it, replace resets it,
 * a deletion leaves a superset. */
START_TEST(plens_records)
{
	struct blstore *s = open_rw();
	struct blstore_plens pl;
	const char *e[] = {"192.0.2.0/24", "198.51.100.7", "2001:db8::/64", "2001:db8::1",
			   "example.com"};
	plens_of(s, "l", &pl);
	ck_assert_uint_eq(pl.ip4, 0); /* no list yet: nothing to probe */
	ck_assert_int_eq(add(s, "l", e, 5, 2, 0, 0), 0);
	plens_of(s, "l", &pl);
	ck_assert_uint_eq(pl.ip4, (1ull << 24) | (1ull << 32));
	ck_assert_uint_eq(pl.ip6[0], 0);
	ck_assert_uint_eq(pl.ip6[1], 1); /* /64 */
	ck_assert_uint_eq(pl.ip6[2], 1); /* /128 */
	plens_of(s, "other", &pl);
	ck_assert_uint_eq(pl.ip4, 0);
	/* deleting leaves the bit (a superset is harmless) */
	struct blimport im;
	struct blval v = {0};
	struct blapply_opts del = {BLAPPLY_DEL, 0, 1, {1e40, 1e40}, 0};
	struct blapply_result r;
	blimport_init(&im);
	ck_assert_int_eq(blimport_entry_add(&im, "l", "192.0.2.0/24", 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	ck_assert_int_eq(blimport_apply(s, &im, &del, &r, err, sizeof(err)), 0);
	blimport_cleanup(&im);
	ck_assert_int_eq(r.deleted, 1);
	plens_of(s, "l", &pl);
	ck_assert_uint_eq(pl.ip4, (1ull << 24) | (1ull << 32));
	ck_assert_int_eq(lookup(s, "l", "192.0.2.1", 0), 0);
	ck_assert_int_eq(lookup(s, "l", "198.51.100.7", 0), 2);
	/* a replacement starts afresh */
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\5", 4);
	struct blapply_opts rep = {BLAPPLY_PUT, 1, 1, {1e40, 1e40}, 0};
	blimport_init(&im);
	ck_assert_int_eq(blimport_entry_add(&im, "l", "10.0.0.0/16", 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	ck_assert_int_eq(blimport_apply(s, &im, &rep, &r, err, sizeof(err)), 0);
	blimport_cleanup(&im);
	plens_of(s, "l", &pl);
	ck_assert_uint_eq(pl.ip4, 1ull << 16);
	ck_assert_uint_eq(pl.ip6[1] | pl.ip6[2], 0);
	ck_assert_int_eq(lookup(s, "l", "10.0.3.4", 0), 5);
	blstore_close(s);
}
END_TEST

/* A schema 1 database (no length records): read as it is, every length
 * probed; a writer's open upgrades it in place. */
START_TEST(schema1_upgrade)
{
	struct blstore *s = open_rw();
	const char *e[] = {"192.0.2.0/24", "198.51.100.7", "2001:db8::/64"};
	const char *e2[] = {"203.0.113.0/25"};
	ck_assert_int_eq(add(s, "a", e, 3, 2, 0, 0), 0);
	ck_assert_int_eq(add(s, "b", e2, 1, 3, 0, 0), 0);
	/* make it look like schema 1: version 1, no plen: records */
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = {6, "schema"}, v = {4, "\0\0\0\x01"};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->meta, &c), 0);
	k.mv_size = 5;
	k.mv_data = "plen:";
	int n = 0;
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size > 5 && memcmp(k.mv_data, "plen:", 5) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT), n++)
		ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
	ck_assert_int_eq(n, 2);
	mdb_cursor_close(c);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);

	struct blstore_plens pl;
	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->schema, 1);
	plens_of(s, "a", &pl);
	ck_assert_uint_eq(pl.ip4, (1ull << 33) - 1); /* every length */
	ck_assert_int_eq(lookup(s, "a", "192.0.2.9", 0), 2);
	ck_assert_int_eq(lookup(s, "a", "2001:db8::5", 0), 2);
	blstore_close(s);

	s = open_rw(); /* the upgrade, through 2 and 3 to the current */
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	blstore_close(s);
	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	ck_assert_int_eq(filt_bit(s, "a", "192.0.2.9"), 1);
	ck_assert_int_eq(filt_bit(s, "a", "198.51.100.1"), 1);
	ck_assert_int_eq(filt_bit(s, "b", "203.0.113.1"), 1);
	plens_of(s, "a", &pl);
	ck_assert_uint_eq(pl.ip4, (1ull << 24) | (1ull << 32));
	ck_assert_uint_eq(pl.ip6[1], 1);
	plens_of(s, "b", &pl);
	ck_assert_uint_eq(pl.ip4, 1ull << 25);
	ck_assert_int_eq(lookup(s, "a", "192.0.2.9", 0), 2);
	ck_assert_int_eq(lookup(s, "a", "198.51.100.7", 0), 2);
	ck_assert_int_eq(lookup(s, "b", "203.0.113.100", 0), 3);
	ck_assert_int_eq(lookup(s, "b", "203.0.113.200", 0), 0);
	blstore_close(s);
}
END_TEST

/* What writers do to the filter: a positive entry sets the bits of its
 * /24s, an exclusion none, a delete leaves them, a rebuild (prune) and a
 * replacement make it exact; short prefixes fill whole chunks. */
START_TEST(filter_maintenance)
{
	struct blstore *s = open_rw();
	size_t bits;
	const char *e[] = {"192.0.2.7", "10.20.0.0/16", "!10.20.5.0/24", "!198.51.100.9"};
	ck_assert_int_eq(add(s, "l", e, 4, 2, 0, 0), 0);
	ck_assert_int_eq(filt_bit(s, "l", "192.0.2.200"), 1);
	ck_assert_int_eq(filt_bit(s, "l", "192.0.3.7"), 0);
	ck_assert_int_eq(filt_bit(s, "l", "10.20.5.1"), 1); /* the /16 covers it */
	ck_assert_int_eq(filt_bit(s, "l", "10.21.0.1"), 0);
	ck_assert_int_eq(filt_bit(s, "l", "198.51.100.9"), -1); /* exclusions set nothing */
	ck_assert_int_eq(filt_bit(s, "l", "11.0.0.1"), -1);
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 2);
	ck_assert_uint_eq(bits, 1 + 256);
	ck_assert_int_eq(lookup(s, "l", "10.20.5.1", 0), -1);
	ck_assert_int_eq(lookup(s, "l", "10.20.6.1", 0), 2);
	ck_assert_int_eq(filt_chunks(s, "other", &bits), 0);
	/* an exclusion turned into a listing sets its bit */
	const char *e2[] = {"198.51.100.9"};
	ck_assert_int_eq(add(s, "l", e2, 1, 3, 0, 0), 0);
	ck_assert_int_eq(filt_bit(s, "l", "198.51.100.9"), 1);
	ck_assert_int_eq(lookup(s, "l", "198.51.100.9", 0), 3);
	/* a delete leaves the bit, a rebuild clears it and drops empty chunks */
	del(s, "l", "192.0.2.7");
	ck_assert_int_eq(filt_bit(s, "l", "192.0.2.7"), 1);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.7", 0), 0);
	rebuild(s, "l");
	ck_assert_int_eq(filt_bit(s, "l", "192.0.2.7"), -1);
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 2);
	ck_assert_uint_eq(bits, 256 + 1);
	/* /4: sixteen whole chunks */
	const char *wide[] = {"64.0.0.0/4"};
	ck_assert_int_eq(add(s, "l", wide, 1, 4, 0, 1), 0);
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 18);
	ck_assert_uint_eq(bits, 16 * 65536 + 257);
	ck_assert_int_eq(filt_bit(s, "l", "79.255.255.255"), 1);
	ck_assert_int_eq(filt_bit(s, "l", "80.0.0.0"), -1);
	ck_assert_int_eq(lookup(s, "l", "71.2.3.4", 0), 4);
	/* a replacement starts from nothing */
	struct blimport im;
	struct blval v = {0};
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\5", 4);
	struct blapply_opts rep = {BLAPPLY_PUT, 1, 1, {1e40, 1e40}, 0};
	struct blapply_result r;
	blimport_init(&im);
	ck_assert_int_eq(blimport_entry_add(&im, "l", "203.0.113.0/25", 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	ck_assert_int_eq(blimport_apply(s, &im, &rep, &r, err, sizeof(err)), 0);
	blimport_cleanup(&im);
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 1);
	ck_assert_uint_eq(bits, 1);
	ck_assert_int_eq(filt_bit(s, "l", "203.0.113.200"), 1);
	ck_assert_int_eq(filt_bit(s, "l", "64.0.0.1"), -1);
	blstore_close(s);
}
END_TEST

/* A filter chunk of the wrong size: the next writer rebuilds the list's
 * filter rather than trusting it; a reader gets MX_EMALFORMED. */
START_TEST(filter_malformed_chunk)
{
	struct blstore *s = open_rw();
	const char *e[] = {"192.0.2.7", "192.0.2.8"};
	ck_assert_int_eq(add(s, "l", e, 2, 2, 0, 0), 0);
	uint8_t kb[10] = {'f', 'i', 'l', 't', ':'};
	uint32_t id = blkey_list_id("l");
	kb[5] = (uint8_t)(id >> 24);
	kb[6] = (uint8_t)(id >> 16);
	kb[7] = (uint8_t)(id >> 8);
	kb[8] = (uint8_t)id;
	kb[9] = 192;
	MDB_txn *txn;
	MDB_val k = {10, kb}, v = {3, "bad"};
	const uint8_t *chunk;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(blstore_filt_chunk(txn, s, id, 192, &chunk), MX_EMALFORMED);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	const char *e2[] = {"192.0.2.9"};
	ck_assert_int_eq(add(s, "l", e2, 1, 2, 0, 0), 0);
	ck_assert_int_eq(filt_bit(s, "l", "192.0.2.7"), 1);
	size_t bits;
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 1);
	ck_assert_uint_eq(bits, 1);
	blstore_close(s);
}
END_TEST

/* A schema 2 database (no filters): read without them, upgraded by a
 * writer's open to filters equal to a rebuild from the entries. */
START_TEST(schema2_upgrade)
{
	struct blstore *s = open_rw();
	const char *a[] = {"192.0.2.0/24", "198.51.100.7", "!198.51.100.8", "2001:db8::/64",
			   "spam.example", "64.0.0.0/6"};
	const char *b[] = {"203.0.113.0/25"};
	ck_assert_int_eq(add(s, "a", a, 6, 2, 0, 1), 0);
	ck_assert_int_eq(add(s, "b", b, 1, 3, 0, 0), 0);
	size_t bits_a, bits_b, bits;
	ck_assert_int_eq(filt_chunks(s, "a", &bits_a), 6);
	ck_assert_int_eq(filt_chunks(s, "b", &bits_b), 1);
	/* make it look like schema 2: version 2, no filt: records */
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = {6, "schema"}, v = {4, "\0\0\0\x02"};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->meta, &c), 0);
	k.mv_size = 5;
	k.mv_data = "filt:";
	int n = 0;
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size > 5 && memcmp(k.mv_data, "filt:", 5) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT), n++)
		ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
	ck_assert_int_eq(n, 7);
	mdb_cursor_close(c);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);

	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->schema, 2);
	ck_assert_int_eq(filt_chunks(s, "a", &bits), 0);
	ck_assert_int_eq(lookup(s, "a", "192.0.2.9", 0), 2);
	blstore_close(s);

	s = open_rw(); /* the upgrade */
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	blstore_close(s);
	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	ck_assert_int_eq(filt_chunks(s, "a", &bits), 6);
	ck_assert_uint_eq(bits, bits_a);
	ck_assert_int_eq(filt_chunks(s, "b", &bits), 1);
	ck_assert_uint_eq(bits, bits_b);
	ck_assert_int_eq(filt_bit(s, "a", "198.51.100.8"), 1); /* .7's /24 */
	ck_assert_int_eq(filt_bit(s, "a", "67.255.0.1"), 1);
	ck_assert_int_eq(filt_bit(s, "a", "68.0.0.1"), -1);
	ck_assert_int_eq(lookup(s, "a", "198.51.100.7", 0), 2);
	ck_assert_int_eq(lookup(s, "b", "203.0.113.9", 0), 3);
	blstore_close(s);
}
END_TEST

/* An upgrade whose filters do not fit the writer's map grows it and runs
 * again: 60 /8s with one entry each take 60 chunks (some 720 KB), the map
 * 256 KiB. */
START_TEST(schema2_upgrade_grows_the_map)
{
	struct blstore *s = open_rw();
	MDB_txn *txn;
	uint8_t key[BLKEY_HDR + 5], val[64], a[4] = {0, 1, 2, 3};
	struct blval bv = {0};
	bv.n_codes = 1;
	memcpy(bv.codes[0], "\x7f\0\0\2", 4);
	int vl = blval_encode(&bv, val, sizeof(val));
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	struct blstore_list l;
	ck_assert_int_eq(blstore_list_ensure(txn, s, "l", &l), 0);
	for (int i = 0; i < 60; i++) {
		a[0] = (uint8_t)(11 + i);
		MDB_val k = {blkey_ip(key, l.id, BLKEY_IP4, a, 32), key}, v = {(size_t)vl, val};
		ck_assert_int_eq(mdb_put(txn, s->entries, &k, &v, 0), 0);
	}
	struct blstore_plens pl = {1ull << 32, {0, 0, 0}};
	ck_assert_int_eq(blstore_plens_merge(txn, s, l.id, &pl), 0);
	MDB_val k = {6, "schema"}, v = {4, "\0\0\0\x02"};
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);
	setenv("MXDNS_BLSTORE_MAPSIZE", "262144", 1);
	s = open_rw();
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	ck_assert_uint_gt(info.me_mapsize, 262144);
	size_t bits;
	ck_assert_int_eq(filt_chunks(s, "l", &bits), 60);
	ck_assert_uint_eq(bits, 60);
	ck_assert_int_eq(lookup(s, "l", "70.1.2.3", 0), 2);
	blstore_close(s);
}
END_TEST

/* The first byte (value version) of list's entry for addr/plen, or -1. */
static int value_version(struct blstore *s, const char *list, const char *addr, int plen)
{
	uint8_t a[16], key[BLKEY_HDR + 5], wire[256];
	int p, kinds, res = -1;
	MDB_txn *txn;
	ck_assert_int_eq(blkey_parse_entry(addr, a, &p, wire, &kinds), BLKEY_IP4);
	MDB_val k = {blkey_ip(key, blkey_list_id(list), BLKEY_IP4, a, plen), key}, v;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	if (mdb_get(txn, s->entries, &k, &v) == 0 && v.mv_size > 0)
		res = ((const uint8_t *)v.mv_data)[0];
	mdb_txn_abort(txn);
	return res;
}

/* A schema 4 database, as mxdns wrote it before version 2 values: a
 * listed address whose reason is a 64-bit reference to a "str:" record, a
 * listed /24 with its reason inline and an exclusion in it. A writer
 * upgrades it to 5 and every entry answers as before, the reference still
 * resolves, the filter keeps the exclusion out; what it writes next is
 * version 2, beside the version 1 values. */
START_TEST(schema4_values_survive_the_upgrade)
{
	static const uint8_t listed[] = {1, BLVAL_REASON_REF, 1, 127, 0, 0, 2,
					 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
					 0, 8, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
	static const uint8_t net[] = {1, 0, 1, 127, 0, 0, 9, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
				      0, 3, 'n', ' ', '$'};
	static const uint8_t excl[] = {1, BLVAL_EXCLUDE, 0, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,
				       0, 0};
	uint8_t skey[12] = {'s', 't', 'r', ':', 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
	const char *why = "listed by the schema 4 writer";
	struct {
		const char *addr;
		int plen;
		const uint8_t *val;
		size_t len;
	} old[] = {{"192.0.2.1", 32, listed, sizeof(listed)},
		   {"198.51.100.0", 24, net, sizeof(net)},
		   {"198.51.100.7", 32, excl, sizeof(excl)},
		   {"10.9.9.9", 32, excl, sizeof(excl)}};
	struct blstore *s = open_rw();
	struct blstore_list l;
	struct blstore_plens pl = {(1ull << 32) | (1ull << 24), {0, 0, 0}};
	MDB_txn *txn;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(blstore_list_ensure(txn, s, "l", &l), 0);
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		uint8_t a[16], key[BLKEY_HDR + 5], wire[256];
		int plen, kinds;
		ck_assert_int_eq(blkey_parse_entry(old[i].addr, a, &plen, wire, &kinds), BLKEY_IP4);
		MDB_val k = {blkey_ip(key, l.id, BLKEY_IP4, a, old[i].plen), key};
		MDB_val v = {old[i].len, (void *)old[i].val};
		ck_assert_int_eq(mdb_put(txn, s->entries, &k, &v, 0), 0);
	}
	MDB_val sk = {sizeof(skey), skey}, sv = {strlen(why), (void *)why};
	ck_assert_int_eq(mdb_put(txn, s->meta, &sk, &sv, 0), 0);
	ck_assert_int_eq(blstore_plens_merge(txn, s, l.id, &pl), 0);
	ck_assert_int_eq(blstore_filt_rebuild(txn, s, l.id), 0);
	MDB_val k = {6, "schema"}, v = {4, "\0\0\0\x04"};
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);

	s = open_rw();
	ck_assert_uint_eq(s->schema, BLSTORE_SCHEMA);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.1", 0), 2);
	ck_assert_int_eq(lookup(s, "l", "198.51.100.8", 0), 9);
	ck_assert_int_eq(lookup(s, "l", "198.51.100.7", 0), -1);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.2", 0), 0);
	/* an exclusion alone in its /8 sets no filter bit: no chunk */
	ck_assert_int_eq(filt_bit(s, "l", "10.9.9.9"), -1);
	ck_assert_int_eq(lookup(s, "l", "10.9.9.9", 0), -1);

	MDB_cursor *c;
	struct blstore_hit h;
	uint8_t a[4] = {192, 0, 2, 1};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	ck_assert_int_eq(blstore_match_ip(c, l.id, BLKEY_IP4, a, 32, NULL, 0, &h), 0);
	ck_assert_int_eq(h.what, BLM_LISTED);
	ck_assert_int_eq(blstore_val_strings(txn, s, &h.val), 0);
	ck_assert_int_eq(h.val.reason_len, strlen(why));
	ck_assert_mem_eq(h.val.reason, why, strlen(why));
	ck_assert_uint_eq(h.val.listed_at, 1700000000);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);

	const char *more[] = {"203.0.113.5"};
	ck_assert_int_eq(add(s, "l", more, 1, 4, 0, 0), 0);
	ck_assert_int_eq(lookup(s, "l", "203.0.113.5", 0), 4);
	ck_assert_int_eq(value_version(s, "l", "203.0.113.5", 32), 2);
	ck_assert_int_eq(value_version(s, "l", "192.0.2.1", 32), 1);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.1", 0), 2);
	blstore_close(s);
}
END_TEST

START_TEST(domains)
{
	struct blstore *s = open_rw();
	const char *e[] = {"example.com", "*.spam.example", ".both.example", "!ok.spam.example"};
	ck_assert_int_eq(add(s, "d", e, 4, 2, 0, 0), 0);
	const char *e2[] = {"*.deep.spam.example"};
	ck_assert_int_eq(add(s, "d", e2, 1, 4, 0, 0), 0);
	ck_assert_int_eq(lookup(s, "d", "example.com", 0), 2);
	ck_assert_int_eq(lookup(s, "d", "www.example.com", 0), 0);
	ck_assert_int_eq(lookup(s, "d", "spam.example", 0), 0);
	ck_assert_int_eq(lookup(s, "d", "a.b.spam.example", 0), 2);
	ck_assert_int_eq(lookup(s, "d", "ok.spam.example", 0), -1);
	ck_assert_int_eq(lookup(s, "d", "x.deep.spam.example", 0), 4);
	ck_assert_int_eq(lookup(s, "d", "both.example", 0), 2);
	ck_assert_int_eq(lookup(s, "d", "a.both.example", 0), 2);

	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t w[256];
	int ex;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	name_from_text("com", w);
	ck_assert_int_eq(blstore_domain_below(c, blkey_list_id("d"), w, &ex), 0);
	ck_assert_int_eq(ex, 1); /* RFC 8020: example.com is below */
	name_from_text("example.com", w);
	ck_assert_int_eq(blstore_domain_below(c, blkey_list_id("d"), w, &ex), 0);
	ck_assert_int_eq(ex, 0);
	name_from_text("net", w);
	ck_assert_int_eq(blstore_domain_below(c, blkey_list_id("d"), w, &ex), 0);
	ck_assert_int_eq(ex, 0);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	blstore_close(s);
}
END_TEST

START_TEST(ip_exists)
{
	struct blstore *s = open_rw();
	const char *e[] = {"192.0.2.7", "198.51.0.0/16"};
	ck_assert_int_eq(add(s, "l", e, 2, 2, 0, 0), 0);
	MDB_txn *txn;
	MDB_cursor *c;
	int ex;
	uint32_t id = blkey_list_id("l");
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	struct {
		uint8_t a[4];
		int plen, want;
	} t[] = {
		{{192, 0, 2, 0}, 24, 1},  {{192, 0, 0, 0}, 16, 1}, {{192, 0, 3, 0}, 24, 0},
		{{198, 51, 100, 0}, 24, 1}, /* covered by the /16 */
		{{198, 0, 0, 0}, 8, 1},   {{199, 0, 0, 0}, 8, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(blstore_ip_exists(c, id, BLKEY_IP4, t[i].a, t[i].plen, NULL, 0, &ex), 0);
		ck_assert_msg(ex == t[i].want, "case %zu", i);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	blstore_close(s);
}
END_TEST

START_TEST(value_codec)
{
	struct blval v = {0}, d;
	uint8_t buf[BLVAL_MAX];
	v.flags = BLVAL_EXPIRES | BLVAL_SOURCE;
	v.n_codes = 2;
	memcpy(v.codes[0], "\x7f\0\0\2", 4);
	memcpy(v.codes[1], "\x7f\0\0\x0a", 4);
	v.listed_at = 1700000000;
	v.expires = 1800000000;
	v.reason = "spam from $";
	v.reason_len = 11;
	v.source = "feed";
	v.source_len = 4;
	int n = blval_encode(&v, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(blval_decode(buf, (size_t)n, &d), 0);
	ck_assert_int_eq(d.n_codes, 2);
	ck_assert_mem_eq(d.codes[1], "\x7f\0\0\x0a", 4);
	ck_assert_int_eq(d.expires, 1800000000);
	ck_assert_int_eq(d.reason_len, 11);
	ck_assert_mem_eq(d.reason, "spam from $", 11);
	ck_assert_mem_eq(d.source, "feed", 4);
	for (int cut = 0; cut < n; cut++) /* every truncation is refused */
		ck_assert_int_eq(blval_decode(buf, (size_t)cut, &d), MX_EMALFORMED);
	buf[0] = 9; /* unknown value version */
	ck_assert_int_eq(blval_decode(buf, (size_t)n, &d), MX_EMALFORMED);
	ck_assert_int_eq(blval_encode(&v, buf, 10), MX_ESPACE);
}
END_TEST

/* Encodes v, checks the length the version 2 layout gives (blstore.h) and
 * that it decodes to v, with every truncation refused. */
static void value_v2_is(const struct blval *v, int want_len)
{
	uint8_t buf[BLVAL_MAX];
	struct blval d;
	int n = blval_encode(v, buf, sizeof(buf));
	ck_assert_int_eq(n, want_len);
	ck_assert_int_eq(buf[0], 2);
	ck_assert_int_eq(blval_decode(buf, (size_t)n, &d), 0);
	ck_assert_uint_eq(d.flags, v->flags);
	ck_assert_int_eq(d.n_codes, v->n_codes);
	ck_assert_mem_eq(d.codes, v->codes, 4u * v->n_codes);
	ck_assert_uint_eq(d.listed_at, v->listed_at);
	ck_assert_uint_eq(d.expires, v->expires);
	ck_assert_int_eq(d.reason_len, v->reason_len);
	ck_assert_mem_eq(d.reason, v->reason, v->reason_len);
	ck_assert_int_eq(d.source_len, v->source_len);
	if (v->source_len)
		ck_assert_mem_eq(d.source, v->source, v->source_len);
	for (int cut = 0; cut < n; cut++)
		ck_assert_int_eq(blval_decode(buf, (size_t)cut, &d), MX_EMALFORMED);
}

/* Version 2's widths: a 127.0.0.d code is one byte, another four; times
 * are four bytes up to 2106 and eight after (both then); a reference is
 * four bytes with no length. An imported entry of a list with one reason
 * and one source is 16 bytes. */
START_TEST(value_codec_v2_widths)
{
	struct blval v = {0};
	v.flags = BLVAL_SOURCE | BLVAL_REASON_REF | BLVAL_SOURCE_REF;
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\2", 4);
	v.listed_at = 1800000000;
	v.reason = "\1\2\3\4";
	v.reason_len = 4;
	v.source = "\5\6\7\x08";
	v.source_len = 4;
	value_v2_is(&v, 3 + 1 + 4 + 4 + 4);
	memcpy(v.codes[0], "\x7f\0\1\2", 4); /* not 127.0.0.d */
	value_v2_is(&v, 3 + 4 + 4 + 4 + 4);
	v.n_codes = 2;
	memcpy(v.codes[0], "\x7f\0\0\x0b", 4);
	memcpy(v.codes[1], "\x7f\0\0\xff", 4);
	value_v2_is(&v, 3 + 2 + 4 + 4 + 4);
	v.flags |= BLVAL_EXPIRES;
	v.expires = UINT32_MAX;
	value_v2_is(&v, 3 + 2 + 4 + 4 + 4 + 4);
	v.expires = (uint64_t)UINT32_MAX + 1; /* 2106: both times widen */
	value_v2_is(&v, 3 + 2 + 8 + 8 + 4 + 4);
	v.flags = BLVAL_EXCLUDE; /* an exclusion: no codes, no texts */
	v.n_codes = 0;
	v.expires = 0;
	v.listed_at = (uint64_t)1 << 40;
	v.reason_len = v.source_len = 0;
	value_v2_is(&v, 3 + 8 + 2);
	v.flags = BLVAL_SOURCE; /* inline texts keep their lengths */
	v.listed_at = 0;
	v.reason = "spam from $";
	v.reason_len = 11;
	v.source = "";
	value_v2_is(&v, 3 + 4 + 2 + 11 + 1);

	uint8_t buf[BLVAL_MAX];
	struct blval d;
	int n = blval_encode(&v, buf, sizeof(buf));
	buf[1] |= 0x80; /* a flag this version does not know */
	ck_assert_int_eq(blval_decode(buf, (size_t)n, &d), MX_EMALFORMED);
	buf[1] = (uint8_t)(BLVAL_SOURCE_REF | BLVAL_SOURCE); /* 1 byte of a 4-byte reference */
	ck_assert_int_eq(blval_decode(buf, (size_t)n, &d), MX_EMALFORMED);
}
END_TEST

/* A reason or source longer than a reference and shared (written for the
 * entry before in the transaction, or stored already) is stored once
 * ("str:") and the value refers to it: the value shrinks, reading it back
 * gives the same text. A text used once stays inline and leaves no record;
 * so does a short one; a text whose hash holds another text stays inline
 * (never the wrong text); a reference to no text is an error, not
 * garbage. */
static int str_record_exists(MDB_txn *txn, struct blstore *s, const uint8_t *ref)
{
	uint8_t kb[4 + BLVAL_REF_LEN];
	memcpy(kb, "str:", 4);
	memcpy(kb + 4, ref, BLVAL_REF_LEN);
	MDB_val k = {sizeof(kb), kb}, v;
	return mdb_get(txn, s->meta, &k, &v) == 0;
}

START_TEST(value_texts_shared)
{
	struct blstore *s = open_rw();
	struct blstore_strs known = {0}, fresh = {0};
	struct blval v = {0}, d;
	uint8_t in[BLVAL_MAX], out[BLVAL_MAX], again[BLVAL_MAX];
	MDB_txn *txn;
	const char *why = "Listed, see https://bl.example/lookup?ip=$";
	v.flags = BLVAL_SOURCE;
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\2", 4);
	v.reason = why;
	v.reason_len = (uint16_t)strlen(why);
	v.source = "import list4.ip4set";
	v.source_len = 19;
	int n = blval_encode(&v, in, sizeof(in));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	/* the first entry: used once so far, inline */
	ck_assert_int_eq(blstore_val_compact(txn, s, &known, in, (size_t)n, out, sizeof(out)), n);
	ck_assert_mem_eq(out, in, (size_t)n);
	/* the second with the same texts: shared */
	int m = blstore_val_compact(txn, s, &known, in, (size_t)n, out, sizeof(out));
	/* both texts and their lengths (u16, u8) become references */
	ck_assert_int_eq(m, n - (2 + (int)strlen(why)) - (1 + 19) + 2 * BLVAL_REF_LEN);
	ck_assert_int_eq(blval_decode(out, (size_t)m, &d), 0);
	ck_assert_uint_eq(d.flags, BLVAL_SOURCE | BLVAL_REASON_REF | BLVAL_SOURCE_REF);
	ck_assert_int_eq(blstore_val_strings(txn, s, &d), 0);
	ck_assert_uint_eq(d.flags, BLVAL_SOURCE);
	ck_assert_int_eq(d.reason_len, strlen(why));
	ck_assert_mem_eq(d.reason, why, strlen(why));
	ck_assert_int_eq(d.source_len, 19);
	ck_assert_mem_eq(d.source, "import list4.ip4set", 19);
	/* again, from the cache and from the records: the same bytes */
	ck_assert_int_eq(blstore_val_compact(txn, s, &known, in, (size_t)n, again, sizeof(again)), m);
	ck_assert_mem_eq(again, out, (size_t)m);
	ck_assert_int_eq(blstore_val_compact(txn, s, &fresh, in, (size_t)n, again, sizeof(again)), m);
	ck_assert_mem_eq(again, out, (size_t)m);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);

	/* a text used once: inline, and no record of it */
	struct blval once = v;
	once.reason = "Listed on 2026-11-29 at 12:00:00 by a trap";
	once.reason_len = (uint16_t)strlen(once.reason);
	uint8_t one[BLVAL_MAX];
	int n1 = blval_encode(&once, one, sizeof(one));
	memset(&fresh, 0, sizeof(fresh));
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	int m1 = blstore_val_compact(txn, s, &fresh, one, (size_t)n1, out, sizeof(out));
	ck_assert_int_eq(blval_decode(out, (size_t)m1, &d), 0);
	ck_assert_uint_eq(d.flags, BLVAL_SOURCE | BLVAL_SOURCE_REF); /* the source is stored */
	ck_assert_mem_eq(d.reason, once.reason, strlen(once.reason));
	uint8_t ref[BLVAL_REF_LEN];
	memset(&fresh, 0, sizeof(fresh));
	ck_assert_int_eq(blstore_val_compact(txn, s, &fresh, one, (size_t)n1, out, sizeof(out)), m1);
	int m2 = m1 - (2 + (int)strlen(once.reason)) + BLVAL_REF_LEN;
	ck_assert_int_eq(blstore_val_compact(txn, s, &fresh, one, (size_t)n1, out, sizeof(out)), m2);
	ck_assert_int_eq(blval_decode(out, (size_t)m2, &d), 0);
	memcpy(ref, d.reason, BLVAL_REF_LEN);
	mdb_txn_abort(txn); /* the second use stored it; gone with the abort */
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert(!str_record_exists(txn, s, ref));
	mdb_txn_abort(txn);

	/* the reason's record now holds another text (as a hash collision
	 * would): a new value with that reason keeps it inline */
	ck_assert_int_eq(blval_decode(again, (size_t)m, &d), 0); /* the shared form above */
	uint8_t kb[4 + BLVAL_REF_LEN];
	memcpy(kb, "str:", 4);
	memcpy(kb + 4, d.reason, BLVAL_REF_LEN);
	MDB_val k = {sizeof(kb), kb}, other = {5, "other"};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert(str_record_exists(txn, s, kb + 4));
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &other, 0), 0);
	memset(&fresh, 0, sizeof(fresh));
	for (int i = 0; i < 2; i++) {
		m = blstore_val_compact(txn, s, &fresh, in, (size_t)n, out, sizeof(out));
		ck_assert_int_eq(blval_decode(out, (size_t)m, &d), 0);
		ck_assert_uint_eq(d.flags, BLVAL_SOURCE | BLVAL_SOURCE_REF);
		ck_assert_mem_eq(d.reason, why, strlen(why));
	}
	/* a reference to a record that is gone */
	ck_assert_int_eq(mdb_del(txn, s->meta, &k, NULL), 0);
	memset(&fresh, 0, sizeof(fresh));
	blstore_val_compact(txn, s, &fresh, in, (size_t)n, out, sizeof(out));
	m = blstore_val_compact(txn, s, &fresh, in, (size_t)n, out, sizeof(out)); /* stored again */
	ck_assert_int_eq(blval_decode(out, (size_t)m, &d), 0);
	ck_assert_uint_eq(d.flags, BLVAL_SOURCE | BLVAL_REASON_REF | BLVAL_SOURCE_REF);
	ck_assert_int_eq(mdb_del(txn, s->meta, &k, NULL), 0);
	ck_assert_int_eq(blstore_val_strings(txn, s, &d), MX_EMALFORMED);
	mdb_txn_abort(txn);

	/* texts no longer than a reference stay inline */
	v.reason = "sp $";
	v.reason_len = 4;
	v.source = "feed";
	v.source_len = 4;
	n = blval_encode(&v, in, sizeof(in));
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(blstore_val_compact(txn, s, &fresh, in, (size_t)n, out, sizeof(out)), n);
		ck_assert_mem_eq(out, in, (size_t)n);
	}
	mdb_txn_abort(txn);
	/* a reference of the wrong length is not written */
	v.flags |= BLVAL_REASON_REF;
	v.reason_len = 3;
	ck_assert_int_eq(blval_encode(&v, in, sizeof(in)), MX_EMALFORMED);

	/* A schema 4 database's value: version 1, its reference 8 bytes long
	 * in a length-prefixed field, its record "str:" + 8 bytes. It reads as
	 * it did; re-encoding it unresolved is refused, resolved it is
	 * written as version 2. */
	static const uint8_t v1[] = {1, BLVAL_REASON_REF, 1, 127, 0, 0, 2,
				     0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00, /* 1700000000 */
				     0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t kb1[12] = {'s', 't', 'r', ':', 1, 2, 3, 4, 5, 6, 7, 8};
	MDB_val k1 = {sizeof(kb1), kb1}, t1 = {strlen(why), (void *)why};
	for (size_t cut = 0; cut < sizeof(v1); cut++)
		ck_assert_int_eq(blval_decode(v1, cut, &d), MX_EMALFORMED);
	ck_assert_int_eq(blval_decode(v1, sizeof(v1), &d), 0);
	ck_assert_uint_eq(d.flags, BLVAL_REASON_REF);
	ck_assert_int_eq(d.reason_len, 8);
	ck_assert_int_eq(d.listed_at, 1700000000);
	ck_assert_mem_eq(d.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(blval_encode(&d, out, sizeof(out)), MX_EMALFORMED);
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->meta, &k1, &t1, 0), 0);
	ck_assert_int_eq(blstore_val_strings(txn, s, &d), 0);
	ck_assert_int_eq(d.reason_len, strlen(why));
	ck_assert_mem_eq(d.reason, why, strlen(why));
	m = blval_encode(&d, out, sizeof(out));
	ck_assert_int_eq(m, 3 + 1 + 4 + 2 + (int)strlen(why));
	ck_assert_int_eq(out[0], 2);
	mdb_txn_abort(txn);
	blstore_close(s);
}
END_TEST

/* blstore_keycmp orders exactly as LMDB's default: memcmp, then length. */
START_TEST(keycmp_is_memcmp_order)
{
	uint8_t a[40], b[40];
	srand(99);
	for (int i = 0; i < 200000; i++) {
		size_t la = (size_t)(rand() % 40), lb = (size_t)(rand() % 40);
		for (size_t j = 0; j < 40; j++)
			a[j] = b[j] = (uint8_t)(rand() % 3 ? 0x41 : rand());
		if (rand() % 2) /* one differing byte, anywhere */
			b[rand() % 40] ^= (uint8_t)(1 << (rand() % 8));
		MDB_val x = {la, a}, y = {lb, b};
		size_t n = la < lb ? la : lb;
		int want = memcmp(a, b, n);
		want = want ? (want < 0 ? -1 : 1) : la < lb ? -1 : la > lb;
		int got = blstore_keycmp(&x, &y);
		got = got < 0 ? -1 : got > 0;
		ck_assert_msg(got == want, "lens %zu %zu: got %d want %d", la, lb, got, want);
	}
}
END_TEST

START_TEST(schema_refused)
{
	struct blstore *s = open_rw();
	MDB_txn *txn;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	MDB_val k = {6, "schema"}, v = {4, "\0\0\0\x07"};
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);
	s = NULL;
	ck_assert_int_eq(blstore_open(path, BLSTORE_CREATE, &s, err, sizeof(err)), MX_ESCHEMA);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "schema version 7"));
	ck_assert_ptr_nonnull(strstr(err, "newer"));
	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), MX_ESCHEMA);
	/* a file that is not ours at all */
	FILE *f = fopen(path, "w");
	fputs("not a database", f);
	fclose(f);
	ck_assert_int_ne(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_ptr_null(s);
	/* and a missing one, read-only */
	unlink(path);
	ck_assert_int_ne(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

/* With address space limited (ulimit -v, valgrind) the reader's 256 GiB
 * map is refused; it must settle for a smaller one and still read. */
START_TEST(reader_under_address_limit)
{
#if defined(__SANITIZE_ADDRESS__)
	return; /* the sanitizer's shadow memory needs the address space */
#else
	struct blstore *s = open_rw();
	const char *e[] = {"192.0.2.7"};
	ck_assert_int_eq(add(s, "l", e, 1, 4, 0, 0), 0);
	blstore_close(s);
	struct rlimit rl = {(rlim_t)4 << 30, (rlim_t)4 << 30}; /* 4 GiB */
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0); /* this test's process only */
	s = NULL;
	int rc = blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.7", 0), 4);
	blstore_close(s);
#endif
}
END_TEST

START_TEST(map_growth)
{
	setenv("MXDNS_BLSTORE_MAPSIZE", "262144", 1); /* 256 KiB */
	struct blstore *s = open_rw();
	const char *first[] = {"203.0.113.9"};
	ck_assert_int_eq(add(s, "keep", first, 1, 9, 0, 0), 0);
	/* 50,000 entries cannot fit in 256 KiB: the writer must grow */
	struct blimport im;
	struct blval v = {0};
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\2", 4);
	blimport_init(&im);
	for (int i = 0; i < 50000; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		ck_assert_int_eq(blimport_entry_add(&im, "big", a, 0, &v, err, sizeof(err)), 0);
	}
	blimport_sort(&im);
	struct blapply_opts ao = {BLAPPLY_PUT, 0, 0, {1e40, 1e40}, 0};
	struct blapply_result r;
	ck_assert_msg(blimport_apply(s, &im, &ao, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(r.put, 50000);
	blimport_cleanup(&im);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	ck_assert_uint_gt(info.me_mapsize, 262144);
	ck_assert_int_eq(lookup(s, "keep", "203.0.113.9", 0), 9);
	ck_assert_int_eq(lookup(s, "big", "10.0.195.79", 0), 2);
	blstore_close(s);
	/* a read-only opener sees it all */
	ck_assert_int_eq(blstore_open(path, BLSTORE_RDONLY, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(lookup(s, "big", "10.0.0.0", 0), 2);
	blstore_close(s);
}
END_TEST

START_TEST(replace_is_atomic_and_checked)
{
	struct blstore *s = open_rw();
	const char *old[] = {"127.0.0.2", "192.0.2.1", "192.0.2.2"};
	ck_assert_int_eq(add(s, "l", old, 3, 2, 0, 0), 0);
	/* 127.0.0.1 may not be listed */
	const char *bad[] = {"127.0.0.0/8"};
	ck_assert_int_eq(add(s, "l", bad, 1, 2, 0, 0), MX_EREFUSED);
	ck_assert_ptr_nonnull(strstr(err, "127.0.0.1"));
	ck_assert_int_eq(lookup(s, "l", "127.0.0.5", 0), 0); /* nothing written */
	/* replace with a list that drops the test point: refused, old stays */
	struct blimport im;
	struct blval v = {0};
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\3", 4);
	blimport_init(&im);
	ck_assert_int_eq(blimport_entry_add(&im, "l", "198.51.100.1", 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	struct blapply_opts ao = {BLAPPLY_PUT, 1, 0, {1e40, 1e40}, 0};
	struct blapply_result r;
	ck_assert_int_eq(blimport_apply(s, &im, &ao, &r, err, sizeof(err)), MX_EREFUSED);
	ck_assert_ptr_nonnull(strstr(err, "127.0.0.2"));
	ck_assert_int_eq(lookup(s, "l", "192.0.2.1", 0), 2);
	ck_assert_int_eq(blimport_entry_add(&im, "l", "127.0.0.2", 0, &v, err, sizeof(err)), 0);
	blimport_sort(&im);
	ck_assert_int_eq(blimport_apply(s, &im, &ao, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.deleted, 3);
	ck_assert_int_eq(lookup(s, "l", "192.0.2.1", 0), 0);
	ck_assert_int_eq(lookup(s, "l", "198.51.100.1", 0), 3);
	blimport_cleanup(&im);
	/* budget */
	const char *wide[] = {"11.0.0.0/7"};
	ck_assert_int_eq(add(s, "l", wide, 1, 2, 0, 0), 0); /* budget 1e40 in add() */
	blstore_close(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blstore");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lpm_nested_and_exclusions);
	tcase_add_test(tc, lpm_random_oracle);
	tcase_add_test(tc, lpm_random_oracle_ip6);
	tcase_add_test(tc, plens_records);
	tcase_add_test(tc, schema1_upgrade);
	tcase_add_test(tc, schema2_upgrade);
	tcase_add_test(tc, schema2_upgrade_grows_the_map);
	tcase_add_test(tc, filter_maintenance);
	tcase_add_test(tc, filter_malformed_chunk);
	tcase_add_test(tc, ipv6_and_expiry);
	tcase_add_test(tc, domains);
	tcase_add_test(tc, ip_exists);
	tcase_add_test(tc, value_codec);
	tcase_add_test(tc, value_codec_v2_widths);
	tcase_add_test(tc, schema4_values_survive_the_upgrade);
	tcase_add_test(tc, value_texts_shared);
	tcase_add_test(tc, keycmp_is_memcmp_order);
	tcase_add_test(tc, schema_refused);
	tcase_add_test(tc, reader_under_address_limit);
	tcase_add_test(tc, map_growth);
	tcase_add_test(tc, replace_is_atomic_and_checked);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

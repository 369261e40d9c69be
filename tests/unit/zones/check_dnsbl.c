/* check_dnsbl: DNSBL zones end to end below the packet layer: query names
 * to answers (A codes, TXT with "$" expanded and split at 255 bytes), RFC
 * 5782 test points whatever the data, RFC 8020 NODATA above listings,
 * malformed names, ACLs, expiry, a commit becoming visible to a worker's
 * renewed read transaction, the /24 filter in front of the B-tree (used
 * on schema 3, refetched after each commit, not on schema 2), and the
 * answer index in front of both (schema 6), whose every verdict on a
 * random list must be the tree's; DS for a zone served below a DNSBL. */
#include "answer.h"
#include "blfast.h"
#include "blimport.h"
#include "blkey.h"
#include "blstore.h"
#include "config.h"
#include "dnsbl.h"
#include "errcode.h"
#include "name.h"
#include "zone.h"
#include "zonedb.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/check_dnsbl.XXXXXX";
static char path[300];
static char err[1024];

/* Imports (or with mode BLAPPLY_DEL deletes) the entries of text through
 * the writer; returns what it did. */
static struct blapply_result apply(const char *list, const char *format, const char *text,
				   int mode, int force)
{
	struct blstore *s;
	struct blimport im;
	struct blimport_opts o = {0};
	struct blapply_opts ao = {mode, 0, force, {1e40, 1e40}, 0};
	struct blapply_result r;
	ck_assert_msg(blstore_open(path, BLSTORE_CREATE, &s, err, sizeof(err)) == 0, "%s", err);
	o.format = format;
	o.list = list;
	o.now = 1000;
	if (strstr(text, "EXPIRING"))
		o.expires = 2000;
	blimport_init(&im);
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_msg(blimport_stream(&im, f, "t", &o, err, sizeof(err)) == 0, "%s", err);
	fclose(f);
	blimport_sort(&im);
	ck_assert_msg(blimport_apply(s, &im, &ao, &r, err, sizeof(err)) == 0, "%s", err);
	blimport_cleanup(&im);
	blstore_close(s);
	return r;
}

static void put(const char *list, const char *format, const char *text, int force)
{
	apply(list, format, text, BLAPPLY_PUT, force);
}

static struct config_dnsbl cfg;
static char *lists[2];
static char *ns[1] = {"ns.bl.example."};
static struct config_acl acl[3];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bl.mdb", dir);
	put("bl.example", "ip4set",
	    ":127.0.0.2:Listed $, see http://bl.example/$\n"
	    "192.0.2.0/24\n!192.0.2.99\n198.51.100.7 :127.0.0.4:\n127.0.0.1\n"
	    "203.0.113.5 EXPIRING\n",
	    1 /* the 127.0.0.1 entry must be ignored by the server */);
	put("bl.example", "plain", "spam.example listed domain $\n2001:db8::/32 six\n", 0);
	put("other", "plain", "192.0.2.5 other list\n", 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "bl.example";
	cfg.db = path;
	lists[0] = "bl.example";
	lists[1] = "other";
	cfg.lists = lists;
	cfg.n_lists = 1;
	cfg.ttl = 2100;
	cfg.neg_ttl = 300;
	cfg.soa_mname = "ns.bl.example.";
	cfg.soa_rname = "hostmaster.bl.example.";
	cfg.ns = ns;
	cfg.n_ns = 1;
}

static void teardown(void)
{
	char lock[320];
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static struct dnsbl_answer ans;

static enum dnsbl_status look(struct zone *z, struct dnsbl_readers *r, const char *name,
			      const char *client, uint64_t now, int txt)
{
	uint8_t w[NAME_MAXLEN];
	size_t len = 0;
	int labels = 0;
	if (*name) {
		int n = name_from_text(name, w);
		ck_assert_int_gt(n, 1);
		name_lower(w, w, (size_t)n);
		len = (size_t)n - 1;
		labels = name_count_labels(w);
	}
	struct sockaddr_in sin = {.sin_family = AF_INET};
	inet_pton(AF_INET, client ? client : "192.0.2.200", &sin.sin_addr);
	struct dnsbl_name nm;
	dnsbl_name_set(&nm, w, len, labels);
	dnsbl_lookup(z->bl, r, &nm, (struct sockaddr *)&sin, now, txt, &ans);
	return ans.status;
}

static struct zone *load(void)
{
	struct zone *z = dnsbl_zone_load(&cfg, err, sizeof(err));
	ck_assert_msg(z != NULL, "%s", err);
	ck_assert_ptr_nonnull(z->bl);
	ck_assert_ptr_nonnull(z->soa);
	return z;
}

START_TEST(answers)
{
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	ck_assert_int_eq(look(z, r, "1.2.0.192", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_int_eq(ans.n_codes, 1);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(ans.ttl, 2100);
	const char *want = "Listed 192.0.2.1, see http://bl.example/192.0.2.1";
	ck_assert_int_eq(ans.txt_len, 1 + strlen(want));
	ck_assert_int_eq(ans.txt[0], strlen(want));
	ck_assert_mem_eq(ans.txt + 1, want, strlen(want));
	ck_assert_int_eq(look(z, r, "99.2.0.192", NULL, 1500, 1), DNSBL_NXDOMAIN); /* excluded */
	ck_assert_int_eq(look(z, r, "7.100.51.198", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\4", 4);
	ck_assert_int_eq(ans.txt_len, 0); /* ":127.0.0.4:" = no TXT */
	ck_assert_int_eq(look(z, r, "8.100.51.198", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* RFC 8020: names above listings exist */
	ck_assert_int_eq(look(z, r, "2.0.192", NULL, 1500, 0), DNSBL_NODATA);
	ck_assert_int_eq(look(z, r, "0.192", NULL, 1500, 0), DNSBL_NODATA);
	ck_assert_int_eq(look(z, r, "100.51.198", NULL, 1500, 0), DNSBL_NODATA);
	ck_assert_int_eq(look(z, r, "3.0.192", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "8.b.d.0.1.0.0.2", NULL, 1500, 0), DNSBL_NODATA);
	ck_assert_int_eq(look(z, r, "example", NULL, 1500, 0), DNSBL_NODATA);
	ck_assert_int_eq(look(z, r, "", NULL, 1500, 0), DNSBL_NODATA); /* apex */
	/* malformed names are simply not listed */
	ck_assert_int_eq(look(z, r, "1.2.0.300", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "1.2.3.4.5", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "x.2.0.192", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* RHSBL and IPv6 in the same zone */
	ck_assert_int_eq(look(z, r, "SPAM.example", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_mem_eq(ans.txt + 1, "listed domain spam.example", 26);
	ck_assert_int_eq(look(z, r, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2",
			      NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_mem_eq(ans.txt + 1, "six", 3);
	/* expiry: listed before, not after */
	ck_assert_int_eq(look(z, r, "5.113.0.203", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "5.113.0.203", NULL, 2000, 0), DNSBL_NXDOMAIN);
	dnsbl_readers_free(r);
	zone_unref(z);
}
END_TEST

START_TEST(test_points)
{
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	/* 127.0.0.1 is in the data (forced in); still never listed */
	ck_assert_int_eq(look(z, r, "1.0.0.127", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "2.0.0.127", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(look(z, r, "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
			      NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "1.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
			      NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "TEST", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "invalid", NULL, 1500, 0), DNSBL_NXDOMAIN);
	dnsbl_readers_free(r);
	zone_unref(z);
}
END_TEST

START_TEST(acls)
{
	config_parse_net("10.0.0.0/8", &acl[0].net);
	acl[0].action = ACL_REFUSE;
	config_parse_net("172.16.0.0/12", &acl[1].net);
	acl[1].action = ACL_DENY_CODE;
	config_parse_net("0.0.0.0/0", &acl[2].net);
	acl[2].action = ACL_QUOTA_CODE;
	config_parse_net("192.0.2.0/24", &acl[2].net);
	cfg.acl = acl;
	cfg.n_acl = 3;
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	ck_assert_int_eq(look(z, r, "1.2.0.192", "10.1.1.1", 1500, 0), DNSBL_REFUSED);
	ck_assert_int_eq(look(z, r, "", "10.1.1.1", 1500, 0), DNSBL_REFUSED);
	ck_assert_int_eq(look(z, r, "9.9.9.9", "172.16.1.1", 1500, 0), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\xff\xff\xfe", 4);
	ck_assert_int_eq(look(z, r, "9.9.9.9", "192.0.2.1", 1500, 0), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\xff\xff\xff", 4);
	ck_assert_int_eq(look(z, r, "1.2.0.192", "198.51.100.1", 1500, 0), DNSBL_LISTED); /* no rule */
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	dnsbl_readers_free(r);
	zone_unref(z);
	cfg.acl = NULL;
	cfg.n_acl = 0;
}
END_TEST

START_TEST(two_lists_and_live_change)
{
	cfg.n_lists = 2;
	struct zone *z = load();
	struct zone *z2 = load(); /* shares the environment */
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	ck_assert_int_eq(look(z, r, "5.2.0.192", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_int_eq(ans.n_codes, 1); /* both lists say 127.0.0.2: one A */
	ck_assert_int_eq(look(z, r, "77.77.77.77", NULL, 1500, 0), DNSBL_NXDOMAIN);
	put("other", "plain", "77.77.77.77 new\n", 0);
	/* the live transaction still sees the old state ... */
	ck_assert_int_eq(look(z2, r, "77.77.77.77", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* ... and a refresh a few ms later the new one */
	dnsbl_readers_refresh(r, 100);
	ck_assert_int_eq(look(z2, r, "77.77.77.77", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_mem_eq(ans.txt + 1, "new", 3);
	dnsbl_readers_reset(r);
	zone_unref(z);
	dnsbl_readers_refresh(r, 200);
	ck_assert_int_eq(look(z2, r, "77.77.77.77", NULL, 1500, 0), DNSBL_LISTED);
	zone_unref(z2);
	dnsbl_readers_refresh(r, 300); /* lets go of the database */
	dnsbl_readers_free(r);
	cfg.n_lists = 1;
}
END_TEST

START_TEST(long_txt_split)
{
	char text[1200];
	memset(text, 'x', 600);
	memcpy(text, "192.0.2.250 ", 12);
	text[600] = 0;
	strcat(text, " $\n");
	put("bl.example", "plain", text, 0);
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	ck_assert_int_eq(look(z, r, "250.2.0.192", NULL, 1500, 1), DNSBL_LISTED);
	/* strings of at most 255 bytes, cut at DNSBL_TXT_MAX */
	ck_assert_int_le(ans.txt_len, DNSBL_TXT_MAX);
	ck_assert_int_eq(ans.txt[0], 255);
	ck_assert_int_eq(ans.txt[256], 255 > ans.txt_len - 257 ? ans.txt_len - 257 : 255);
	dnsbl_readers_free(r);
	zone_unref(z);
}
END_TEST

/* Writes an IPv4 entry straight into the entries database, behind the
 * filter's back (no writer does that: it shows whether a lookup trusted
 * the filter), or sets the schema record. With drop_index, the /8's
 * answer index record goes too, as if a writer before schema 6 had
 * written the entry: then the filter and the tree decide. */
static void raw_entry_ex(const char *list, const char *addr, uint8_t code, int drop_index)
{
	struct blstore *s;
	MDB_txn *txn;
	uint8_t a[4], key[BLKEY_HDR + 5], val[64];
	struct blval v = {0};
	v.n_codes = 1;
	memcpy(v.codes[0], "\x7f\0\0\0", 4);
	v.codes[0][3] = code;
	ck_assert_int_eq(inet_pton(AF_INET, addr, a), 1);
	size_t kl = blkey_ip(key, blkey_list_id(list), BLKEY_IP4, a, 32);
	int vl = blval_encode(&v, val, sizeof(val));
	ck_assert_int_gt(vl, 0);
	ck_assert_msg(blstore_open(path, 0, &s, err, sizeof(err)) == 0, "%s", err);
	MDB_val k = {kl, key}, d = {(size_t)vl, val};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->entries, &k, &d, 0), 0);
	if (drop_index) {
		uint8_t fk[10] = {'f', 'a', 's', 't', ':'};
		memcpy(fk + 5, key, 4); /* the list id */
		fk[9] = a[0];
		MDB_val mk = {sizeof(fk), fk};
		int rc = mdb_del(txn, s->meta, &mk, NULL);
		ck_assert(rc == 0 || rc == MDB_NOTFOUND);
	}
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);
}

static void raw_entry(const char *list, const char *addr, uint8_t code)
{
	raw_entry_ex(list, addr, code, 1);
}

static void set_schema(uint32_t ver)
{
	struct blstore *s;
	MDB_txn *txn;
	uint8_t b[4] = {(uint8_t)(ver >> 24), (uint8_t)(ver >> 16), (uint8_t)(ver >> 8), (uint8_t)ver};
	ck_assert_msg(blstore_open(path, 0, &s, err, sizeof(err)) == 0, "%s", err);
	MDB_val k = {6, "schema"}, v = {4, b};
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_put(txn, s->meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	blstore_close(s);
}

START_TEST(filter_in_front_of_the_tree)
{
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	/* an empty /8, cached as empty; a commit that lists in it is seen
	 * by the next transaction (another snapshot: the chunk is fetched
	 * again) */
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "1.1.1.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	put("bl.example", "plain", "9.9.9.9 nine\n", 0);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN); /* old snapshot */
	dnsbl_readers_refresh(r, 100);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "10.9.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN); /* its /24 only */
	/* a renewal without a commit keeps the cached chunks */
	dnsbl_readers_refresh(r, 200);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "9.9.8.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* entries behind the filter's back: in a /24 whose bit is set the
	 * tree is walked, in one whose bit is clear it is not */
	raw_entry("bl.example", "9.9.9.10", 6);
	raw_entry("bl.example", "9.9.7.10", 6);
	dnsbl_readers_refresh(r, 300);
	ck_assert_int_eq(look(z, r, "10.9.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "10.7.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* RFC 5782 test points come before the filter: 127.0.0.2 is listed
	 * even where the list has nothing in 127/8 */
	cfg.lists = lists + 1; /* "other" only */
	struct zone *z2 = load();
	cfg.lists = lists;
	ck_assert_int_eq(look(z2, r, "2.0.0.127", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(look(z2, r, "1.0.0.127", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z2, r, "5.2.0.192", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z2, r, "6.2.0.192", NULL, 1500, 0), DNSBL_NXDOMAIN);
	/* a schema 2 snapshot: no filter, the tree decides */
	set_schema(2);
	dnsbl_readers_refresh(r, 400);
	ck_assert_int_eq(look(z, r, "10.7.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "99.2.0.192", NULL, 1500, 0), DNSBL_NXDOMAIN); /* excluded */
	/* a writer's open upgrades it (to 3 and on), the filters built from the
	 * entries (the one written behind the old filter's back included),
	 * and the running reader uses them from its next transaction */
	struct blstore *st;
	ck_assert_msg(blstore_open(path, 0, &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(st->schema, BLSTORE_SCHEMA);
	blstore_close(st);
	raw_entry("bl.example", "9.9.6.10", 6);
	dnsbl_readers_refresh(r, 500);
	ck_assert_int_eq(look(z, r, "10.7.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "10.6.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	dnsbl_readers_free(r);
	zone_unref(z2);
	zone_unref(z);
}
END_TEST

/* The answer index decides without the tree where it can: an entry
 * written behind its back is not seen in a /24 it describes, and every
 * writer's change (add, delete, exclusion, another code) is. */
START_TEST(index_in_front_of_the_tree)
{
	struct zone *z = load();
	struct dnsbl_readers *r = dnsbl_readers_new();
	put("bl.example", "plain", "9.9.9.9 spam\n9.9.8.0/24 spam\n", 0);
	raw_entry_ex("bl.example", "9.9.9.10", 6, 0);
	dnsbl_readers_refresh(r, 1);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_int_eq(look(z, r, "10.9.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "200.8.9.9", NULL, 1500, 0), DNSBL_LISTED);
	/* the answer is the entry's, TXT and all */
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 1), DNSBL_LISTED);
	ck_assert_int_eq(ans.n_codes, 1);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(ans.txt_len, 5);
	ck_assert_mem_eq(ans.txt, "\x04spam", 5);
	/* a delete and an exclusion are seen at once */
	ck_assert_uint_eq(apply("bl.example", "plain", "9.9.9.9\n", BLAPPLY_DEL, 0).deleted, 1);
	put("bl.example", "ip4set", "!9.9.8.7\n9.9.8.8 :127.0.0.3:other\n", 0);
	dnsbl_readers_refresh(r, 100);
	ck_assert_int_eq(look(z, r, "9.9.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "7.8.9.9", NULL, 1500, 0), DNSBL_NXDOMAIN);
	ck_assert_int_eq(look(z, r, "6.8.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\2", 4);
	ck_assert_int_eq(look(z, r, "8.8.9.9", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_mem_eq(ans.codes[0], "\x7f\0\0\3", 4);
	dnsbl_readers_free(r);
	zone_unref(z);
}
END_TEST

/* Every verdict of the answer index, as the writer builds it from a
 * random list (nested prefixes, exclusions, other codes, expiring
 * entries, deletes), is the tree's longest-prefix match, at a time before
 * and after the expiry; and most addresses get a verdict. */
START_TEST(index_agrees_with_the_tree)
{
	enum { N = 4000, PROBES = 40000 };
	static const int plens[] = {7, 8, 12, 16, 20, 23, 24, 24, 24, 25, 28, 30, 31, 32, 32, 32, 32};
	size_t cap = (size_t)N * 48 + 128, o = 0;
	char *text = malloc(cap), *dels = malloc(cap), *exp = malloc(cap);
	size_t od = 0, oe = 0;
	unsigned seed = 12345;
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(dels);
	ck_assert_ptr_nonnull(exp);
	dels[0] = exp[0] = 0;
	o += (size_t)snprintf(text + o, cap - o, ":127.0.0.2:Listed $\n");
	for (int i = 0; i < N; i++) {
		int p = plens[rand_r(&seed) % (sizeof(plens) / sizeof(plens[0]))];
		/* a small space, so that prefixes nest and share /24s */
		unsigned a = (8u + (unsigned)rand_r(&seed) % 3) << 24 |
			     ((unsigned)rand_r(&seed) % 4) << 16 |
			     ((unsigned)rand_r(&seed) % 16) << 8 | (unsigned)rand_r(&seed) % 256;
		a &= p ? ~0u << (32 - p) : 0;
		char ip[32];
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u/%d", a >> 24, a >> 16 & 255, a >> 8 & 255,
			 a & 255, p);
		int kind = rand_r(&seed) % 20;
		if (kind == 0)
			oe += (size_t)snprintf(exp + oe, cap - oe, "%s EXPIRING\n", ip);
		else if (kind == 1)
			o += (size_t)snprintf(text + o, cap - o, "!%s\n", ip);
		else if (kind == 2)
			o += (size_t)snprintf(text + o, cap - o, "%s :127.0.0.3:\n", ip);
		else
			o += (size_t)snprintf(text + o, cap - o, "%s\n", ip);
		if (kind > 2 && rand_r(&seed) % 10 == 0)
			od += (size_t)snprintf(dels + od, cap - od, "%s\n", ip);
	}
	put("bl.example", "ip4trie", text, 1);
	put("bl.example", "plain", exp, 1);
	ck_assert_uint_gt(apply("bl.example", "plain", dels, BLAPPLY_DEL, 1).deleted, 0);
	struct blstore *s;
	ck_assert_msg(blstore_open(path, 0, &s, err, sizeof(err)) == 0, "%s", err);

	MDB_txn *txn;
	MDB_cursor *c;
	uint32_t id = blkey_list_id("bl.example");
	size_t decided = 0, listed = 0;
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	for (int i = 0; i < PROBES; i++) {
		uint8_t a[4] = {(uint8_t)(8 + rand_r(&seed) % 3), (uint8_t)(rand_r(&seed) % 5),
				(uint8_t)(rand_r(&seed) % 17), (uint8_t)rand_r(&seed)};
		const uint8_t *rec;
		ck_assert_int_eq(blstore_fast_get(txn, s, id, a[0], &rec), 0);
		enum blfast_verdict v = rec ? blfast_lookup(rec, a) : BLFAST_UNLISTED;
		for (int t = 0; t < 2; t++) {
			struct blstore_hit hit;
			ck_assert_int_eq(blstore_match_ip(c, id, BLKEY_IP4, a, 32, NULL,
							  t ? 2500 : 1500, &hit), 0);
			if (v == BLFAST_WALK)
				continue;
			ck_assert_msg((hit.what == BLM_LISTED) == (v == BLFAST_LISTED),
				      "%u.%u.%u.%u: index %d, tree %d", a[0], a[1], a[2], a[3], v,
				      hit.what);
			if (v == BLFAST_LISTED) {
				size_t vlen;
				struct blval want;
				const uint8_t *val = blfast_value(rec, &vlen);
				ck_assert_int_eq(blval_decode(val, vlen, &want), 0);
				ck_assert_int_eq(hit.val.n_codes, want.n_codes);
				ck_assert_mem_eq(hit.val.codes, want.codes, (size_t)want.n_codes * 4);
				ck_assert_int_eq(hit.val.reason_len, want.reason_len);
				ck_assert(memcmp(hit.val.reason, want.reason, want.reason_len) == 0);
			}
		}
		decided += v != BLFAST_WALK;
		listed += v == BLFAST_LISTED;
	}
	/* The index must carry its weight, not ask the tree for everything.
	 * This list is dense (some 20 entries a /24, nested, with other codes
	 * and expiries), so most of its /24s rightly ask; with this seed 37 %
	 * of the probes are decided and 12 % found listed. */
	ck_assert_uint_gt(decided, PROBES / 4);
	ck_assert_uint_gt(listed, PROBES / 10);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	blstore_close(s);
	free(text);
	free(dels);
	free(exp);
}
END_TEST

/* More lists than a worker caches filters for: the lists beyond walk the
 * tree, the caches move between lists as zones ask, answers stay right. */
START_TEST(many_lists)
{
	enum { N = 20 };
	char names[N][16], text[64];
	char *ln[N], *rev[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "l%d", i);
		snprintf(text, sizeof(text), "10.0.%d.1\n", i);
		put(names[i], "plain", text, 0);
		ln[i] = names[i];
		rev[N - 1 - i] = names[i];
	}
	cfg.lists = ln;
	cfg.n_lists = N;
	struct zone *z = load();
	cfg.lists = rev;
	struct zone *z2 = load();
	cfg.lists = lists;
	cfg.n_lists = 1;
	struct dnsbl_readers *r = dnsbl_readers_new();
	for (int round = 0; round < 4; round++) {
		dnsbl_readers_refresh(r, 1 + 10 * (uint64_t)round);
		for (int i = 0; i < N; i++) {
			char q[32];
			struct zone *zz = (i + round) & 1 ? z : z2;
			snprintf(q, sizeof(q), "1.%d.0.10", i);
			ck_assert_int_eq(look(zz, r, q, NULL, 1500, 0), DNSBL_LISTED);
			snprintf(q, sizeof(q), "2.%d.0.10", i);
			ck_assert_int_eq(look(zz, r, q, NULL, 1500, 0), DNSBL_NXDOMAIN);
			snprintf(q, sizeof(q), "1.%d.0.11", i);
			ck_assert_int_eq(look(zz, r, q, NULL, 1500, 0), DNSBL_NXDOMAIN);
		}
		snprintf(text, sizeof(text), "11.1.0.%d\n", round);
		put(names[round * 5], "plain", text, 0); /* a commit between rounds */
	}
	dnsbl_readers_refresh(r, 100);
	ck_assert_int_eq(look(z, r, "3.0.1.11", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z2, r, "0.0.1.11", NULL, 1500, 0), DNSBL_LISTED);
	ck_assert_int_eq(look(z2, r, "4.0.1.11", NULL, 1500, 0), DNSBL_NXDOMAIN);
	dnsbl_readers_free(r);
	zone_unref(z2);
	zone_unref(z);
}
END_TEST

/* RFC 4035 §3.1.4.1 sends DS for the apex of a zone served below a
 * DNSBL zone to the DNSBL: the name exists there (NODATA, the DNSBL's
 * SOA), whether or not the list holds it, and not NXDOMAIN. */
START_TEST(ds_of_a_zone_served_below)
{
	struct zone *zs[3] = {load()};
	static const char *child = "@ 60 SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
	zs[1] = zone_from_text("spam.example.bl.example", child, "listed.zone", err, sizeof(err));
	zs[2] = zone_from_text("clean.bl.example", child, "clean.zone", err, sizeof(err));
	ck_assert_msg(zs[1] && zs[2], "%s", err);
	struct zonedb *db = zonedb_from_zones(zs, 3);
	struct dnsbl_readers *r = dnsbl_readers_new();
	dnsbl_readers_refresh(r, 1);
	struct answer_opts opts = {.udp_size = 1232};
	struct answer_ctx ctx = {.opts = &opts, .proto = ANSWER_UDP, .now = 1500, .bl = r};
	static const char *names[] = {"spam.example.bl.example", "clean.bl.example"};
	for (size_t i = 0; i < 2; i++) {
		uint8_t q[300] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, out[1232];
		int n = name_from_text(names[i], q + 12);
		ck_assert_int_gt(n, 0);
		size_t qlen = 12 + (size_t)n;
		memcpy(q + qlen, "\0\53\0\1", 4); /* DS IN */
		qlen += 4;
		size_t len = answer_build(q, qlen, db, &ctx, out, sizeof(out));
		ck_assert_uint_ge(len, 12);
		ck_assert_msg((out[3] & 0xF) == 0, "%s DS: rcode %d", names[i], out[3] & 0xF);
		ck_assert(out[2] & 0x04); /* AA */
		ck_assert_int_eq(out[6] << 8 | out[7], 0);  /* no answer */
		ck_assert_int_eq(out[8] << 8 | out[9], 1);  /* the SOA */
		ck_assert_ptr_eq(ctx.zone, zs[0]);	     /* from the DNSBL */
		/* Everything else at the apex is the child's. */
		memcpy(q + qlen - 4, "\0\6\0\1", 4); /* SOA IN */
		len = answer_build(q, qlen, db, &ctx, out, sizeof(out));
		ck_assert_int_eq(out[6] << 8 | out[7], 1);
		ck_assert_ptr_eq(ctx.zone, zs[1 + i]);
	}
	dnsbl_readers_free(r);
	zonedb_free(db);
	for (size_t i = 0; i < 3; i++)
		zone_unref(zs[i]);
}
END_TEST

START_TEST(load_errors)
{
	cfg.db = "/nonexistent/dir/bl.mdb";
	ck_assert_ptr_null(dnsbl_zone_load(&cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "bl.example"));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/bl.mdb"));
	cfg.db = path;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dnsbl");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, answers);
	tcase_add_test(tc, test_points);
	tcase_add_test(tc, acls);
	tcase_add_test(tc, two_lists_and_live_change);
	tcase_add_test(tc, long_txt_split);
	tcase_add_test(tc, filter_in_front_of_the_tree);
	tcase_add_test(tc, index_in_front_of_the_tree);
	tcase_add_test(tc, index_agrees_with_the_tree);
	tcase_add_test(tc, many_lists);
	tcase_add_test(tc, ds_of_a_zone_served_below);
	tcase_add_test(tc, load_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

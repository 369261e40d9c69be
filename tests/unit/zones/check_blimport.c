/* check_blimport: each importer format on small texts (entries, values,
 * default lines, $n and $= templates, exclusions, ranges), bad lines with
 * their FILE:LINE, --skip-bad, and combined datasets into several lists. */
#include "blimport.h"
#include "blkey.h"
#include "blstore.h"
#include "errcode.h"
#include "name.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/check_blimport.XXXXXX";
static char path[300];
static char err[1024];
static struct blstore *s;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bl.mdb", dir);
	ck_assert_int_eq(blstore_open(path, BLSTORE_CREATE, &s, err, sizeof(err)), 0);
}

static void teardown(void)
{
	char lock[320];
	blstore_close(s);
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static int import(const char *format, const char *list, const char *text, int skip_bad,
		  size_t *n_bad)
{
	struct blimport im;
	struct blimport_opts o = {0};
	o.format = format;
	o.list = list;
	o.now = 1700000000;
	o.skip_bad = skip_bad;
	blimport_init(&im);
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc = blimport_stream(&im, f, "data.txt", &o, err, sizeof(err));
	fclose(f);
	if (n_bad)
		*n_bad = im.n_bad;
	if (rc == 0) {
		struct blapply_opts ao = {BLAPPLY_PUT, 0, 0, {1e40, 1e40}, 0};
		struct blapply_result r;
		blimport_sort(&im);
		rc = blimport_apply(s, &im, &ao, &r, err, sizeof(err));
	}
	blimport_cleanup(&im);
	return rc;
}

/* "none", "excluded", or "CODE TXT" for an address or domain. */
static const char *q(const char *list, const char *what)
{
	static char out[1200];
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t a[16], wire[256];
	int plen, kinds;
	struct blstore_hit h;
	int t = blkey_parse_entry(what, a, &plen, wire, &kinds);
	ck_assert_int_gt(t, 0);
	ck_assert_int_eq(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, s->entries, &c), 0);
	uint32_t id = blkey_list_id(list);
	if (t == BLKEY_DOM)
		ck_assert_int_eq(blstore_match_domain(c, id, wire, 0, &h), 0);
	else
		ck_assert_int_eq(blstore_match_ip(c, id, t, a, t == BLKEY_IP4 ? 32 : 128, NULL, 0, &h), 0);
	if (h.what != BLM_NONE)
		ck_assert_int_eq(blstore_val_strings(txn, s, &h.val), 0);
	if (h.what == BLM_NONE)
		snprintf(out, sizeof(out), "none");
	else if (h.what == BLM_EXCLUDED)
		snprintf(out, sizeof(out), "excluded");
	else
		snprintf(out, sizeof(out), "%u.%u.%u.%u %.*s", h.val.codes[0][0], h.val.codes[0][1],
			 h.val.codes[0][2], h.val.codes[0][3], h.val.reason_len, h.val.reason);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return out;
}

START_TEST(ip4set)
{
	const char *text = "# comment\n"
			   "; also a comment\n"
			   "$SOA 0 ns.example. admin.example. 0 1h 1h 1w 1h\n"
			   "$TTL 3600\n"
			   "$1 http://bl.example/\n"
			   ":127.0.0.2:Listed: $1?$\n"
			   "192.0.2.1\n"
			   "192.0.2.2 :5\n"
			   "192.0.2.3 :6:\n"
			   "192.0.2.4 Open relay $ $$5\n"
			   "198.51.100 ; a /24 by prefix\n"
			   "203.0.113.10-20 :3:range\n"
			   "10.16-31 :4:suffix range\n"
			   "172.16/12\n"
			   "!172.16.5.5\n"
			   "127.0.0.2\n";
	ck_assert_msg(import("rbldnsd-ip4set", "l", text, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("l", "192.0.2.1"), "127.0.0.2 Listed: http://bl.example/?$");
	ck_assert_str_eq(q("l", "192.0.2.2"), "127.0.0.5 Listed: http://bl.example/?$");
	ck_assert_str_eq(q("l", "192.0.2.3"), "127.0.0.6 ");
	ck_assert_str_eq(q("l", "192.0.2.4"), "127.0.0.2 Open relay $ $$5");
	ck_assert_str_eq(q("l", "198.51.100.200"), "127.0.0.2 Listed: http://bl.example/?$");
	ck_assert_str_eq(q("l", "203.0.113.9"), "none");
	ck_assert_str_eq(q("l", "203.0.113.15"), "127.0.0.3 range");
	ck_assert_str_eq(q("l", "203.0.113.20"), "127.0.0.3 range");
	ck_assert_str_eq(q("l", "203.0.113.21"), "none");
	ck_assert_str_eq(q("l", "10.31.255.255"), "127.0.0.4 suffix range");
	ck_assert_str_eq(q("l", "10.32.0.0"), "none");
	ck_assert_str_eq(q("l", "172.31.1.1"), "127.0.0.2 Listed: http://bl.example/?$");
	ck_assert_str_eq(q("l", "172.16.5.5"), "excluded");
	struct blstore_list l;
	MDB_txn *txn;
	mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	ck_assert_int_eq(blstore_list_get(txn, s, "l", &l), 0);
	ck_assert_int_eq(l.ttl, 3600);
	mdb_txn_abort(txn);
}
END_TEST

START_TEST(base_template)
{
	const char *text = "$= See http://bl.example/?$= ($) for details\n"
			   "127.0.0.2\n"
			   "192.0.2.1 r123\n"
			   "192.0.2.3\n"
			   "192.0.2.4 =See other lists about $\n";
	ck_assert_msg(import("ip4set", "l", text, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("l", "192.0.2.1"), "127.0.0.2 See http://bl.example/?r123 ($) for details");
	ck_assert_str_eq(q("l", "192.0.2.3"), "127.0.0.2 See http://bl.example/?$ ($) for details");
	ck_assert_str_eq(q("l", "192.0.2.4"), "127.0.0.2 See other lists about $");
}
END_TEST

START_TEST(trie_tset_and_ip6)
{
	ck_assert_int_eq(import("ip4trie", "t", ":3:trie\n10.0.0.0/8\n10.1.0.0/16 :4:inner\n!10.1.1.1\n", 0, NULL), 0);
	ck_assert_str_eq(q("t", "10.2.0.1"), "127.0.0.3 trie");
	ck_assert_str_eq(q("t", "10.1.0.1"), "127.0.0.4 inner");
	ck_assert_str_eq(q("t", "10.1.1.1"), "excluded");
	ck_assert_int_eq(import("ip4trie", "t2", "10.0.0.1-5\n", 0, NULL), MX_ESYNTAX);
	ck_assert_int_eq(import("ip4tset", "ts", ":2:tset $\n192.0.2.9\n192.0.2.10 :7:ignored\n", 0, NULL), 0);
	ck_assert_str_eq(q("ts", "192.0.2.10"), "127.0.0.2 tset $");
	ck_assert_int_eq(import("ip4tset", "ts2", "192.0.2.0/24\n", 0, NULL), MX_ESYNTAX);
	const char *t6 = ":127.0.1.2: Listed, see http://example.com/lookup?$\n"
			 "2001:21ab:c000/36\n"
			 "2001:21ab:def7:4242 :127.0.1.3: This one smells funny\n"
			 "2605:6001:42::/52\n"
			 "::1\n"
			 "!2605:6001:42::bead\n";
	ck_assert_msg(import("ip6trie", "six", t6, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("six", "2001:21ab:c123::1"), "127.0.1.2 Listed, see http://example.com/lookup?$");
	ck_assert_str_eq(q("six", "2001:21ab:d000::1"), "none");
	ck_assert_str_eq(q("six", "2001:21ab:def7:4242:1::"), "127.0.1.3 This one smells funny");
	ck_assert_str_eq(q("six", "2605:6001:42::bead"), "excluded");
	ck_assert_str_eq(q("six", "2605:6001:42::beef"), "127.0.1.2 Listed, see http://example.com/lookup?$");
	ck_assert_str_eq(q("six", "::1"), "127.0.1.2 Listed, see http://example.com/lookup?$");
	ck_assert_int_eq(import("ip6tset", "s6", "2001:20fe:23:41ed\n!2001:20fe:23:41ed::2\n", 0, NULL), 0);
	ck_assert_str_eq(q("s6", "2001:20fe:23:41ed::1"), "127.0.0.2 ");
	ck_assert_str_eq(q("s6", "2001:20fe:23:41ed::2"), "excluded");
	ck_assert_int_eq(import("ip6tset", "s7", "2001:20fe:23::/48\n", 0, NULL), MX_ESYNTAX);
}
END_TEST

START_TEST(dnset_generic_plain)
{
	const char *d = ":2:Domain $ listed\nexample.com\n*.spam.example :3:\n.both.example\n!ok.spam.example\n";
	ck_assert_msg(import("dnset", "d", d, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("d", "example.com"), "127.0.0.2 Domain $ listed");
	ck_assert_str_eq(q("d", "x.spam.example"), "127.0.0.3 ");
	ck_assert_str_eq(q("d", "ok.spam.example"), "excluded");
	ck_assert_str_eq(q("d", "both.example"), "127.0.0.2 Domain $ listed");
	const char *g = "# generic\n$NS 0 ns1.ex.com\nwww 3000 A 127.0.0.8\nwww TXT \"costs $5\"\n@ A 127.0.0.9\nmx MX 10 mx.ex.com\n";
	ck_assert_msg(import("generic", "g", g, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("g", "www"), "127.0.0.8 costs $$5");
	const char *p = "# plain\n192.0.2.0/24 spam source\n198.51.100.1-198.51.100.3\n"
			"!192.0.2.7\n2001:db8::/48 v6 net\nspam.example\n*.bad.example reason\n";
	ck_assert_msg(import("plain", "p", p, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("p", "192.0.2.9"), "127.0.0.2 spam source");
	ck_assert_str_eq(q("p", "192.0.2.7"), "excluded");
	ck_assert_str_eq(q("p", "198.51.100.3"), "127.0.0.2 ");
	ck_assert_str_eq(q("p", "198.51.100.4"), "none");
	ck_assert_str_eq(q("p", "2001:db8::99"), "127.0.0.2 v6 net");
	ck_assert_str_eq(q("p", "a.bad.example"), "127.0.0.2 reason");
}
END_TEST

START_TEST(combined)
{
	const char *c = "$NS 1w ns1.ex.com\n$TTL 600\n"
			"$DATASET ip4set:proxy proxies @\n:2:Open proxy $\n127.0.0.2\n127.0.0.10\n"
			"$DATASET ip4set:relay relays @\n:3:Open relay $\n127.0.2.10\n"
			"$DATASET dnset multihop\nbad.example\n";
	ck_assert_msg(import("rbldnsd-combined", "bl.ex.com", c, 0, NULL) == 0, "%s", err);
	ck_assert_str_eq(q("bl.ex.com", "127.0.0.10"), "127.0.0.2 Open proxy $");
	ck_assert_str_eq(q("bl.ex.com", "127.0.2.10"), "127.0.0.3 Open relay $");
	ck_assert_str_eq(q("proxies.bl.ex.com", "127.0.0.10"), "127.0.0.2 Open proxy $");
	ck_assert_str_eq(q("proxies.bl.ex.com", "127.0.2.10"), "none");
	ck_assert_str_eq(q("relays.bl.ex.com", "127.0.2.10"), "127.0.0.3 Open relay $");
	ck_assert_str_eq(q("multihop.bl.ex.com", "bad.example"), "127.0.0.2 ");
	ck_assert_int_eq(import("combined", "x", "127.0.0.2\n", 0, NULL), MX_ESYNTAX);
}
END_TEST

START_TEST(bad_lines)
{
	const char *text = "192.0.2.1\n\n300.1.1.1\n192.0.2.2\n";
	ck_assert_int_eq(import("ip4set", "b", text, 0, NULL), MX_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(err, "data.txt:3:"));
	ck_assert_ptr_nonnull(strstr(err, "300.1.1.1"));
	ck_assert_str_eq(q("b", "192.0.2.1"), "none"); /* nothing was written */
	size_t n_bad = 0;
	ck_assert_int_eq(import("ip4set", "b", text, 1, &n_bad), 0);
	ck_assert_int_eq(n_bad, 1);
	ck_assert_str_eq(q("b", "192.0.2.2"), "127.0.0.2 ");
	/* each format rejects what it cannot hold, naming the line */
	struct {
		const char *fmt, *text, *line;
	} cases[] = {
		{"ip4set", "192.0.2.1 :999:x\n", "data.txt:1:"},
		{"ip6trie", "ok\n", "data.txt:1:"},
		{"dnset", "a..b\n", "data.txt:1:"},
		{"plain", "# x\n10.0.0.5-10.0.0.1\n", "data.txt:2:"},
		{"plain", "10.0.0.0/33\n", "data.txt:1:"},
		{"generic", "www A notanaddress\n", "data.txt:1:"},
		{"ip4set", "$BOGUS 1\n", "data.txt:1:"},
		{"ip4set", "$DATASET ip4set @\n", "data.txt:1:"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(import(cases[i].fmt, "c", cases[i].text, 0, NULL) == MX_ESYNTAX, "case %zu", i);
		ck_assert_msg(strstr(err, cases[i].line) != NULL, "case %zu: %s", i, err);
	}
	ck_assert_int_eq(blimport_format_known("rbldnsd-ip4set"), 1);
	ck_assert_int_eq(blimport_format_known("bind"), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("blimport");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ip4set);
	tcase_add_test(tc, base_template);
	tcase_add_test(tc, trie_tset_and_ip6);
	tcase_add_test(tc, dnset_generic_plain);
	tcase_add_test(tc, combined);
	tcase_add_test(tc, bad_lines);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

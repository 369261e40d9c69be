/* check_blkey: the DNSBL key codec both ways, query-name parsing (good and
 * malformed names), key order, and range splitting. */
#include "blkey.h"
#include "errcode.h"
#include "name.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wire labels below the apex from a dotted text ("2.0.0.127"). */
static size_t rel_of(const char *text, uint8_t *rel, int *labels)
{
	uint8_t w[NAME_MAXLEN];
	int n = name_from_text(text, w);
	ck_assert_int_gt(n, 1);
	*labels = name_count_labels(w);
	memcpy(rel, w, (size_t)n - 1);
	return (size_t)n - 1;
}

START_TEST(ip4_names)
{
	uint8_t rel[256], a[4];
	int n;
	size_t len = rel_of("2.0.0.127", rel, &n);
	ck_assert_int_eq(blkey_parse_ip4(rel, len, n, a), 4);
	ck_assert_mem_eq(a, ((uint8_t[]){127, 0, 0, 2}), 4);
	len = rel_of("2.0.192", rel, &n); /* 192.0.2/24: a prefix */
	ck_assert_int_eq(blkey_parse_ip4(rel, len, n, a), 3);
	ck_assert_mem_eq(a, ((uint8_t[]){192, 0, 2, 0}), 4);
	static const char *bad[] = {"256.0.0.1", "01.0.0.1", "a.0.0.1", "1..2", "1.2.3.4.5",
				    "-1.0.0.1", "1000.0.0.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t w[NAME_MAXLEN];
		int l = name_from_text(bad[i], w);
		if (l < 2)
			continue; /* not even a name */
		ck_assert_msg(blkey_parse_ip4(w, (size_t)l - 1, name_count_labels(w), a) < 0,
			      "%s accepted", bad[i]);
	}
}
END_TEST

/* Every label of one to three characters from digits and their
 * neighbours in ASCII, as the first octet label: accepted exactly when it
 * is a decimal number up to 255 without a leading zero. */
START_TEST(ip4_octet_labels)
{
	static const char chars[] = "0123456789/:a";
	const int nc = (int)sizeof(chars) - 1;
	for (int len = 1; len <= 3; len++) {
		int total = 1;
		for (int i = 0; i < len; i++)
			total *= nc;
		for (int k = 0; k < total; k++) {
			uint8_t rel[16], a[4];
			char lab[4];
			int x = k, want = 0, ok = 1;
			for (int i = 0; i < len; i++, x /= nc)
				lab[i] = chars[x % nc];
			lab[len] = 0;
			for (int i = 0; i < len; i++) {
				if (lab[i] < '0' || lab[i] > '9')
					ok = 0;
				want = want * 10 + (lab[i] - '0');
			}
			if (len > 1 && lab[0] == '0')
				ok = 0;
			ok = ok && want <= 255;
			/* the label, then 2.0.10 */
			rel[0] = (uint8_t)len;
			memcpy(rel + 1, lab, (size_t)len);
			memcpy(rel + 1 + len, "\0012\0010\00210", 7);
			int got = blkey_parse_ip4(rel, (size_t)len + 8, 4, a);
			if (ok) {
				ck_assert_msg(got == 4, "%s refused", lab);
				ck_assert_msg(a[3] == want && a[2] == 2 && a[1] == 0 && a[0] == 10,
					      "%s parsed wrong", lab);
			} else {
				ck_assert_msg(got < 0, "%s accepted", lab);
			}
		}
	}
	/* A label running past the name's end. */
	uint8_t cut[4] = {3, '1', '2'}, a[4];
	ck_assert_int_lt(blkey_parse_ip4(cut, 3, 1, a), 0);
}
END_TEST

START_TEST(ip6_names)
{
	uint8_t rel[256], a[16];
	int n;
	/* ::FFFF:7F00:2, RFC 5782 §5 */
	size_t len = rel_of("2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", rel, &n);
	ck_assert_int_eq(blkey_parse_ip6(rel, len, n, a), 32);
	ck_assert_mem_eq(a, ((uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f, 0, 0, 2}), 16);
	len = rel_of("8.b.d.0.1.0.0.2", rel, &n); /* 2001:db8::/32 */
	ck_assert_int_eq(blkey_parse_ip6(rel, len, n, a), 8);
	ck_assert_mem_eq(a, ((uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0}), 5);
	len = rel_of("8.B.D.0.1.0.0.2", rel, &n); /* case does not matter */
	ck_assert_int_eq(blkey_parse_ip6(rel, len, n, a), 8);
	len = rel_of("g.0.0.2", rel, &n);
	ck_assert_int_lt(blkey_parse_ip6(rel, len, n, a), 0);
	len = rel_of("10.0.0.2", rel, &n);
	ck_assert_int_lt(blkey_parse_ip6(rel, len, n, a), 0);
}
END_TEST

static void roundtrip(const char *text, const char *want)
{
	uint8_t a[16], wire[256], key[BLKEY_MAX];
	char out[600];
	int plen, kinds, type, len;
	int t = blkey_parse_entry(text, a, &plen, wire, &kinds);
	ck_assert_msg(t > 0, "%s not parsed", text);
	if (t == BLKEY_DOM) {
		int k = (kinds & BLKEY_EXACT) ? BLKEY_EXACT : BLKEY_WILD;
		len = blkey_domain(key, 7, wire, k);
	} else {
		len = (int)blkey_ip(key, 7, t, a, plen);
	}
	ck_assert_int_gt(len, 0);
	ck_assert_int_gt(blkey_to_text(key, (size_t)len, out, sizeof(out), &type), 0);
	ck_assert_int_eq(type, t);
	ck_assert_str_eq(out, want);
}

START_TEST(entries_both_ways)
{
	roundtrip("192.0.2.1", "192.0.2.1");
	roundtrip("192.0.2.77/24", "192.0.2.0/24"); /* host bits masked */
	roundtrip("2001:DB8::/32", "2001:db8::/32");
	roundtrip("::ffff:127.0.0.2", "::ffff:127.0.0.2");
	roundtrip("Example.COM", "example.com");
	roundtrip("*.spam.example", "*.spam.example");
	uint8_t a[16], wire[256];
	int plen, kinds;
	ck_assert_int_eq(blkey_parse_entry("192.0.2.0/33", a, &plen, wire, &kinds), MX_ESYNTAX);
	ck_assert_int_eq(blkey_parse_entry("2001:db8::/129", a, &plen, wire, &kinds), MX_ESYNTAX);
	ck_assert_int_eq(blkey_parse_entry("a b", a, &plen, wire, &kinds), MX_ESYNTAX);
	ck_assert_int_eq(blkey_parse_entry("", a, &plen, wire, &kinds), MX_ESYNTAX);
	ck_assert_int_eq(blkey_parse_entry("a..b", a, &plen, wire, &kinds), MX_ESYNTAX);
	ck_assert_int_eq(blkey_parse_entry(".both.example", a, &plen, wire, &kinds), BLKEY_DOM);
	ck_assert_int_eq(kinds, BLKEY_EXACT | BLKEY_WILD);
}
END_TEST

/* The property the store relies on: prefixes containing an address sort
 * before (address, maxlen), and a name's subdomains sort right after its
 * own keys. */
START_TEST(key_order)
{
	uint8_t k1[BLKEY_MAX], k2[BLKEY_MAX], k3[BLKEY_MAX];
	uint8_t a[4] = {10, 1, 2, 3}, n8[4] = {10, 0, 0, 0};
	size_t l1 = blkey_ip(k1, 1, BLKEY_IP4, n8, 8);
	size_t l2 = blkey_ip(k2, 1, BLKEY_IP4, a, 24);
	size_t l3 = blkey_ip(k3, 1, BLKEY_IP4, a, 32);
	ck_assert_int_lt(memcmp(k1, k2, l1), 0);
	ck_assert_int_lt(memcmp(k2, k3, l2), 0);
	ck_assert_int_eq(l3, 10);
	uint8_t w1[256], w2[256];
	name_from_text("example.com", w1);
	name_from_text("a.example.com", w2);
	int d1 = blkey_domain(k1, 1, w1, BLKEY_EXACT), d2 = blkey_domain(k2, 1, w2, BLKEY_EXACT);
	int d3 = blkey_domain(k3, 1, w1, BLKEY_WILD);
	ck_assert_int_lt(memcmp(k3, k1, (size_t)d3), 0);      /* *.x < x */
	ck_assert_int_lt(memcmp(k1, k2, (size_t)d1), 0);      /* x < a.x */
	ck_assert_mem_eq(k1, k2, (size_t)d1 - 1);             /* shares the labels */
	ck_assert_int_gt(d2, d1);
	uint8_t ctl[] = {1, 1, 0};
	ck_assert_int_eq(blkey_domain(k1, 1, ctl, BLKEY_EXACT), MX_ESYNTAX);
	ck_assert_int_ne(blkey_list_id("bl.example.org"), blkey_list_id("bl.example.net"));
}
END_TEST

struct split {
	char out[64][64];
	int n;
};

static int collect(void *arg, const uint8_t *addr, int plen)
{
	struct split *s = arg;
	snprintf(s->out[s->n++], 64, "%u.%u.%u.%u/%d", addr[0], addr[1], addr[2], addr[3], plen);
	return 0;
}

START_TEST(range_split)
{
	struct split s = {.n = 0};
	uint8_t lo[4] = {192, 0, 2, 1}, hi[4] = {192, 0, 2, 10};
	ck_assert_int_eq(blkey_range_split(BLKEY_IP4, lo, hi, collect, &s), 0);
	ck_assert_int_eq(s.n, 5);
	ck_assert_str_eq(s.out[0], "192.0.2.1/32");
	ck_assert_str_eq(s.out[1], "192.0.2.2/31");
	ck_assert_str_eq(s.out[2], "192.0.2.4/30");
	ck_assert_str_eq(s.out[3], "192.0.2.8/31");
	ck_assert_str_eq(s.out[4], "192.0.2.10/32");
	s.n = 0;
	uint8_t z[4] = {0, 0, 0, 0}, f[4] = {255, 255, 255, 255};
	ck_assert_int_eq(blkey_range_split(BLKEY_IP4, z, f, collect, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.out[0], "0.0.0.0/0");
	s.n = 0;
	ck_assert_int_eq(blkey_range_split(BLKEY_IP4, f, f, collect, &s), 0);
	ck_assert_str_eq(s.out[0], "255.255.255.255/32");
	ck_assert_int_eq(blkey_range_split(BLKEY_IP4, hi, lo, collect, &s), MX_ESYNTAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blkey");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, ip4_names);
	tcase_add_test(tc, ip4_octet_labels);
	tcase_add_test(tc, ip6_names);
	tcase_add_test(tc, entries_both_ways);
	tcase_add_test(tc, key_order);
	tcase_add_test(tc, range_split);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Unit tests for tools/domaincheck (the pure parts of `mxdns check`):
 * reverse names for PTR and DNSBL queries, MX evaluation (null MX,
 * duplicates, address literals), DNSBL answer codes, TLSA and DMARC
 * evaluation, and the report's counts, text and JSON. */
#include "domaincheck.h"
#include "errcode.h"
#include "findings.h"
#include "json.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(rev_ipv4)
{
	char out[128];

	ck_assert_int_eq(dc_rev_name("192.0.2.66", "bl.test", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "66.2.0.192.bl.test");
	ck_assert_int_eq(dc_rev_name("127.0.0.2", NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "2.0.0.127.in-addr.arpa");
	ck_assert_int_eq(dc_rev_name("0.0.0.0", "x", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0.0.0.0.x");
}
END_TEST

START_TEST(rev_ipv6)
{
	char out[128];

	/* RFC 5782 §2.4: 32 nibbles, reversed */
	ck_assert_int_eq(dc_rev_name("2001:db8::10", "bl.test", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test");
	ck_assert_int_eq(dc_rev_name("2001:DB8:0::1", NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	/* an IPv4-mapped address is an IPv6 query (RFC 5782 keeps them apart) */
	ck_assert_int_eq(dc_rev_name("::ffff:192.0.2.1", NULL, out, sizeof(out)), 0);
	ck_assert(strncmp(out, "1.0.2.0.0.0.0.c.f.f.f.f.0.0", 27) == 0);
}
END_TEST

START_TEST(rev_bad)
{
	char out[128], small[20];

	ck_assert_int_eq(dc_rev_name("mx1.example.com", NULL, out, sizeof(out)), MX_EINVAL);
	ck_assert_int_eq(dc_rev_name("192.0.2", NULL, out, sizeof(out)), MX_EINVAL);
	ck_assert_int_eq(dc_rev_name("", NULL, out, sizeof(out)), MX_EINVAL);
	ck_assert_int_eq(dc_rev_name("192.0.2.1", "in-addr.arpa", small, 12), MX_ESPACE);
	ck_assert_int_eq(dc_rev_name("2001:db8::1", NULL, small, sizeof(small)), MX_ESPACE);
}
END_TEST

START_TEST(addr_equal)
{
	ck_assert(dc_addr_equal("192.0.2.1", "192.0.2.1"));
	ck_assert(!dc_addr_equal("192.0.2.1", "192.0.2.10"));
	ck_assert(dc_addr_equal("2001:db8::1", "2001:DB8:0:0::1"));
	ck_assert(!dc_addr_equal("2001:db8::1", "192.0.2.1"));
	ck_assert(!dc_addr_equal("host", "host"));
}
END_TEST

static void mx(const char *const *rdata, size_t n, struct dc_mxset *set, struct dc_report *r)
{
	dc_report_init(r);
	dc_mx_eval(rdata, n, set, r);
}

START_TEST(mx_normal_sorted)
{
	const char *rd[] = {"20 MX2.Example.com.", "10 mx1.example.com."};
	struct dc_mxset set;
	struct dc_report r;

	mx(rd, 2, &set, &r);
	ck_assert_uint_eq(set.n, 2);
	ck_assert(!set.null_mx);
	ck_assert_uint_eq(set.mx[0].pref, 10);
	ck_assert_str_eq(set.mx[0].host, "mx1.example.com");
	ck_assert_str_eq(set.mx[1].host, "mx2.example.com"); /* lowercased, no dot */
	ck_assert_uint_eq(dc_count(&r, DC_FAIL) + dc_count(&r, DC_WARN), 0);
	ck_assert(dc_has(&r, DC_MX, DC_OK, "MX 10 mx1.example.com"));
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(mx_null)
{
	const char *rd[] = {"0 ."};
	const char *rd10[] = {"10 ."};
	const char *mixed[] = {"0 .", "10 mx1.example.com."};
	struct dc_mxset set;
	struct dc_report r;

	/* RFC 7505: "0 ." alone */
	mx(rd, 1, &set, &r);
	ck_assert(set.null_mx);
	ck_assert_uint_eq(dc_count(&r, DC_FAIL) + dc_count(&r, DC_WARN), 0);
	ck_assert(dc_has(&r, DC_MX, DC_OK, "null MX"));
	dc_report_cleanup(&r);

	/* §3: its preference is 0 */
	mx(rd10, 1, &set, &r);
	ck_assert(set.null_mx);
	ck_assert(dc_has(&r, DC_MX, DC_WARN, "preference 10"));
	dc_report_cleanup(&r);

	/* §3: never beside other MX */
	mx(mixed, 2, &set, &r);
	ck_assert(!set.null_mx);
	ck_assert(dc_has(&r, DC_MX, DC_FAIL, "null MX"));
	ck_assert(dc_has(&r, DC_MX, DC_OK, "mx1.example.com"));
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(mx_duplicates)
{
	const char *rd[] = {"10 mx1.example.com.", "20 MX1.example.com.", "30 mx2.example.com."};
	struct dc_mxset set;
	struct dc_report r;

	mx(rd, 3, &set, &r);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_uint_eq(set.mx[0].pref, 10);
	ck_assert(dc_has(&r, DC_MX, DC_WARN, "mx1.example.com is listed twice"));
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(mx_ip_literal)
{
	/* absolute, and relative in a zone file so completed with the origin */
	const char *rd[] = {"10 192.0.2.99.", "20 192.0.2.98.example.com.",
			    "30 192.0.2.mx.example.com.", "40 1000.0.2.1."};
	struct dc_mxset set;
	struct dc_report r;

	mx(rd, 4, &set, &r);
	ck_assert_uint_eq(set.n, 4);
	ck_assert(set.mx[0].ip_literal);
	ck_assert(set.mx[1].ip_literal);
	ck_assert(!set.mx[2].ip_literal);
	ck_assert(!set.mx[3].ip_literal);
	ck_assert(dc_has(&r, DC_MX, DC_FAIL, "MX 10 192.0.2.99 is written as an address"));
	ck_assert(dc_has(&r, DC_MX, DC_FAIL, "MX 20 192.0.2.98.example.com is written"));
	ck_assert_uint_eq(dc_count(&r, DC_FAIL), 2);
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(mx_garbage)
{
	const char *rd[] = {"", "mx1.example.com.", "99999 mx.example.com.", "10",
			    "10 mx.example.com."};
	struct dc_mxset set;
	struct dc_report r;

	mx(rd, 5, &set, &r);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_uint_eq(dc_count(&r, DC_FAIL), 4);
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(mx_too_many)
{
	char bufs[DC_MX_MAX + 5][64];
	const char *rd[DC_MX_MAX + 5];
	struct dc_mxset set;
	struct dc_report r;

	for (int i = 0; i < DC_MX_MAX + 5; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "%d mx%d.example.com.", i, i);
		rd[i] = bufs[i];
	}
	mx(rd, DC_MX_MAX + 5, &set, &r);
	ck_assert_uint_eq(set.n, DC_MX_MAX);
	ck_assert(dc_has(&r, DC_MX, DC_WARN, "5 more MX records"));
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(bl_classify)
{
	ck_assert_int_eq(dc_bl_classify("127.0.0.2"), DC_BL_LISTED);
	ck_assert_int_eq(dc_bl_classify("127.0.0.10"), DC_BL_LISTED);
	ck_assert_int_eq(dc_bl_classify("127.0.1.4"), DC_BL_LISTED);
	ck_assert_int_eq(dc_bl_classify("127.255.255.254"), DC_BL_ERROR);
	ck_assert_int_eq(dc_bl_classify("127.255.255.255"), DC_BL_ERROR);
	ck_assert_int_eq(dc_bl_classify("127.0.0.1"), DC_BL_BOGUS);
	ck_assert_int_eq(dc_bl_classify("192.0.2.1"), DC_BL_BOGUS);
	ck_assert_int_eq(dc_bl_classify("not an address"), DC_BL_BOGUS);
}
END_TEST

START_TEST(tlsa)
{
	struct dc_report r;
	const char *sha256 = "97bb22d7faca8f8003878dfe3493274d1dc85690e09d7e50c284716d4d54821c";
	char rd[300];

	dc_report_init(&r);
	snprintf(rd, sizeof(rd), "3 1 1 %s", sha256);
	dc_tlsa_eval("_25._tcp.mx1", rd, &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_OK, "DANE-EE"));
	snprintf(rd, sizeof(rd), "1 1 1 %s", sha256);
	dc_tlsa_eval("_25._tcp.mx1", rd, &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_WARN, "PKIX-EE"));
	dc_tlsa_eval("_25._tcp.mx1", "3 1 1 abcd", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_FAIL, "holds 2 bytes"));
	dc_tlsa_eval("_25._tcp.mx1", "3 1 2 abcd", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_FAIL, "SHA-512 gives 64"));
	dc_tlsa_eval("_25._tcp.mx1", "4 1 1 abcd", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_FAIL, "unknown usage"));
	dc_tlsa_eval("_25._tcp.mx1", "3 1 1 xyz", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_FAIL, "not hexadecimal"));
	dc_tlsa_eval("_25._tcp.mx1", "3 1", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_FAIL, "is not 'USAGE"));
	/* full certificate (matching 0): any length */
	dc_tlsa_eval("_25._tcp.mx2", "2 0 0 3082abcd", &r);
	ck_assert(dc_has(&r, DC_TLSA, DC_OK, "_25._tcp.mx2: TLSA 2 0 0 (DANE-TA)"));
	ck_assert_uint_eq(dc_count(&r, DC_FAIL), 5);
	dc_report_cleanup(&r);
}
END_TEST

static void dmarc(const char *value, struct dc_report *r, char ext[][HOSTARG_MAX], size_t *next)
{
	dc_report_init(r);
	dc_dmarc_eval("example.com", value, strlen(value), r, ext, next);
}

START_TEST(dmarc_policy)
{
	char ext[DC_RUA_MAX][HOSTARG_MAX];
	size_t next = 99;
	struct dc_report r;

	dmarc("v=DMARC1; p=reject; rua=mailto:d@example.com", &r, ext, &next);
	ck_assert_uint_eq(next, 0);
	ck_assert(dc_has(&r, DC_DMARC, DC_OK, "p=reject"));
	ck_assert_uint_eq(dc_count(&r, DC_FAIL) + dc_count(&r, DC_WARN), 0);
	dc_report_cleanup(&r);

	dmarc("v=DMARC1; p=none", &r, ext, &next);
	ck_assert(dc_has(&r, DC_DMARC, DC_WARN, "p: none"));
	ck_assert(dc_has(&r, DC_DMARC, DC_INFO, "no rua="));
	ck_assert_uint_eq(dc_count(&r, DC_WARN), 1); /* said once, by the linter */
	ck_assert_uint_eq(dc_count(&r, DC_OK), 0);
	dc_report_cleanup(&r);

	dmarc("v=DMARC1; p=quarantine; pct=50; sp=none; rua=mailto:a@example.com", &r, ext,
	      &next);
	ck_assert(dc_has(&r, DC_DMARC, DC_WARN, "pct=50"));
	ck_assert(dc_has(&r, DC_DMARC, DC_WARN, "sp=none"));
	dc_report_cleanup(&r);

	/* broken: the linter's error, no policy line */
	dmarc("v=DMARC1; p=maybe", &r, ext, &next);
	ck_assert_uint_ge(dc_count(&r, DC_FAIL), 1);
	ck_assert_uint_eq(dc_count(&r, DC_OK), 0);
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(dmarc_external_rua)
{
	char ext[DC_RUA_MAX][HOSTARG_MAX];
	size_t next = 0;
	struct dc_report r;

	/* same domain, a subdomain and a parent need no authorization;
	 * notexample.com is another domain despite the common tail */
	dmarc("v=DMARC1; p=reject; rua=mailto:a@example.com, mailto:b@reports.example.com,"
	      "mailto:c@vendor.test!10m,mailto:d@notexample.com,mailto:e@VENDOR.test,"
	      "https://reports.vendor.test/dmarc",
	      &r, ext, &next);
	ck_assert_uint_eq(next, 2);
	ck_assert_str_eq(ext[0], "vendor.test");
	ck_assert_str_eq(ext[1], "notexample.com");
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(report_counts_and_levels)
{
	struct dc_report r;
	struct findings f;

	dc_report_init(&r);
	dc_add(&r, DC_MX, DC_OK, "MX %d %s", 10, "mx1");
	dc_add(&r, DC_MX, DC_INFO, "info");
	dc_add(&r, DC_SPF, DC_INFO, "only info");
	findings_init(&f);
	findings_add(&f, FINDING_ERROR, "broken tag");
	findings_add(&f, FINDING_WARN, "weak");
	findings_add(&f, FINDING_NOTE, "fyi");
	dc_add_findings(&r, DC_DKIM, &f, "sel: ");
	ck_assert_uint_eq(dc_count(&r, DC_OK), 1);
	ck_assert_uint_eq(dc_count(&r, DC_INFO), 3);
	ck_assert_uint_eq(dc_count(&r, DC_WARN), 1);
	ck_assert_uint_eq(dc_count(&r, DC_FAIL), 1);
	ck_assert(dc_has(&r, DC_DKIM, DC_FAIL, "sel: broken tag"));
	ck_assert(!dc_has(&r, DC_MX, DC_FAIL, "broken tag"));
	ck_assert_int_eq(dc_section_level(&r, DC_MX), DC_OK);
	ck_assert_int_eq(dc_section_level(&r, DC_SPF), DC_OK); /* INFO is no problem */
	ck_assert_int_eq(dc_section_level(&r, DC_DKIM), DC_FAIL);
	ck_assert_str_eq(dc_section_name(DC_MTASTS), "MTA-STS");
	ck_assert_str_eq(dc_level_name(DC_WARN), "WARN");
	dc_report_cleanup(&r);
}
END_TEST

START_TEST(report_text_and_json)
{
	struct dc_report r;
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	dc_report_init(&r);
	dc_add(&r, DC_DNSBL, DC_FAIL, "192.0.2.66 is listed: \"spam\"\x01");
	dc_add(&r, DC_MX, DC_OK, "MX 10 mx1");

	f = open_memstream(&buf, &len);
	dc_report_print(&r, f, "example.com");
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "MX: OK\n  OK    MX 10 mx1\n"));
	ck_assert_ptr_nonnull(strstr(buf, "DNSBL: FAIL\n  FAIL  192.0.2.66"));
	ck_assert_ptr_nonnull(strstr(buf, "SPF: SKIPPED\n"));
	ck_assert_ptr_nonnull(strstr(buf, "FAILED: 1 FAIL, 0 WARN"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	json_init(&j, f);
	dc_report_json(&r, &j, "example.com");
	json_obj_end(&j);
	ck_assert_int_eq(json_finish(&j), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"domain\":\"example.com\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"ok\":false"));
	ck_assert_ptr_nonnull(strstr(buf, "{\"name\":\"SPF\",\"status\":\"SKIPPED\",\"lines\":[]}"));
	ck_assert_ptr_nonnull(strstr(buf, "is listed: \\\"spam\\\"\\u0001"));
	free(buf);
	dc_report_cleanup(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("domaincheck");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, rev_ipv4);
	tcase_add_test(tc, rev_ipv6);
	tcase_add_test(tc, rev_bad);
	tcase_add_test(tc, addr_equal);
	tcase_add_test(tc, mx_normal_sorted);
	tcase_add_test(tc, mx_null);
	tcase_add_test(tc, mx_duplicates);
	tcase_add_test(tc, mx_ip_literal);
	tcase_add_test(tc, mx_garbage);
	tcase_add_test(tc, mx_too_many);
	tcase_add_test(tc, bl_classify);
	tcase_add_test(tc, tlsa);
	tcase_add_test(tc, dmarc_policy);
	tcase_add_test(tc, dmarc_external_rua);
	tcase_add_test(tc, report_counts_and_levels);
	tcase_add_test(tc, report_text_and_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

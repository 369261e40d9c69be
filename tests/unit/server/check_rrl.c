/* check_rrl: response rate limiting on real responses (built by
 * answer_build from a zone) with a fake clock: classes and tokens, the
 * token bucket, slip, networks, the window, truncation. */
#include "answer.h"
#include "errcode.h"
#include "rrl.h"
#include "zone.h"
#include "zonedb.h"

#include <arpa/inet.h>
#include <check.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const char *zone_text = "$TTL 300\n"
			       "@ SOA ns hm 1 3600 600 86400 300\n"
			       "@ NS ns\n"
			       "ns A 192.0.2.53\n"
			       "www A 192.0.2.1\n"
			       "mail A 192.0.2.25\n"
			       "sub NS ns.sub\n"
			       "ns.sub A 192.0.2.60\n";

static struct zonedb *db;
static const struct zone *zone;
static struct answer_opts opts = {.udp_size = 1232};

static void setup(void)
{
	char err[512];
	struct zone *z = zone_from_text("r.test", zone_text, "r.zone", err, sizeof(err));
	ck_assert_msg(z != NULL, "zone failed: %s", err);
	db = zonedb_from_zones(&z, 1);
	zone_unref(z);
	ck_assert_ptr_nonnull(db);
	zone = db->zones[0];
}

static void teardown(void)
{
	zonedb_free(db);
}

/* A response from the real answer engine. */
static size_t respond(const char *qname, ldns_rr_type type, uint8_t *out, struct answer_ctx *ctx)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, qname, type, LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	memset(ctx, 0, sizeof(*ctx));
	ctx->opts = &opts;
	size_t len = answer_build(wire, wlen, db, ctx, out, 4096);
	ck_assert_uint_gt(len, 12);
	free(wire);
	ldns_pkt_free(q);
	return len;
}

static void classify(const char *qname, ldns_rr_type type, struct rrl_token *tok)
{
	uint8_t out[4096];
	struct answer_ctx ctx;
	size_t len = respond(qname, type, out, &ctx);
	const struct zone *z = ctx.zone;
	ck_assert_int_eq(rrl_classify(out, len, z ? z->apex : NULL, z ? z->apex_len : 0, tok), 0);
}

static int same_token(const struct rrl_token *a, const struct rrl_token *b)
{
	return a->cls == b->cls && a->qtype == b->qtype && a->name_len == b->name_len &&
	       memcmp(a->name, b->name, a->name_len) == 0;
}

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s;
	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s;
	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

static struct rrl *table(uint32_t slip, uint32_t window)
{
	struct rrl_config c = {.slip = slip, .v4_prefix = 24, .v6_prefix = 56, .window = window,
			       .size = 4096};
	struct rrl *r = NULL;
	ck_assert_int_eq(rrl_new(&r, &c, 12345), 0);
	return r;
}

/* How many of n responses at time now pass. */
static int passes(struct rrl *r, const void *client, const struct rrl_token *t, uint32_t rate,
		  uint32_t now, int n, uint32_t *slips)
{
	int ok = 0;
	for (int i = 0; i < n; i++)
		ok += rrl_check(r, client, t, rate, now, slips) == RRL_PASS;
	return ok;
}

START_TEST(classes_and_tokens)
{
	struct rrl_token t;
	classify("www.r.test.", LDNS_RR_TYPE_A, &t);
	ck_assert_int_eq(t.cls, RRL_POSITIVE);
	ck_assert_int_eq(t.qtype, LDNS_RR_TYPE_A);
	ck_assert_int_eq(t.name_len, 12);
	ck_assert_int_eq(memcmp(t.name, "\3www\1r\4test", 12), 0);

	/* Case does not make a new bucket. */
	struct rrl_token u;
	classify("WwW.R.test.", LDNS_RR_TYPE_A, &u);
	ck_assert(same_token(&t, &u));

	classify("nothere.r.test.", LDNS_RR_TYPE_A, &t);
	ck_assert_int_eq(t.cls, RRL_NXDOMAIN);
	ck_assert_int_eq(t.name_len, zone->apex_len);
	ck_assert_int_eq(memcmp(t.name, zone->apex, zone->apex_len), 0);
	/* Random names in a zone share the zone's bucket. */
	classify("other.r.test.", LDNS_RR_TYPE_TXT, &u);
	ck_assert(same_token(&t, &u));

	classify("www.r.test.", LDNS_RR_TYPE_MX, &t);
	ck_assert_int_eq(t.cls, RRL_NODATA);
	ck_assert_int_eq(memcmp(t.name, zone->apex, zone->apex_len), 0);

	classify("a.b.sub.r.test.", LDNS_RR_TYPE_A, &t);
	ck_assert_int_eq(t.cls, RRL_REFERRAL);
	ck_assert_int_eq(t.name_len, 12);
	ck_assert_int_eq(memcmp(t.name, "\3sub\1r\4test", 12), 0);

	classify("elsewhere.example.", LDNS_RR_TYPE_A, &t);
	ck_assert_int_eq(t.cls, RRL_ERROR); /* REFUSED */
	ck_assert_int_eq(t.name_len, 0);

	uint8_t junk[5] = {1, 2, 3, 4, 5};
	ck_assert_int_eq(rrl_classify(junk, sizeof(junk), NULL, 0, &t), MX_ESYNTAX);
	ck_assert_int_eq(t.cls, RRL_ERROR);
}
END_TEST

START_TEST(bucket_rate_per_second)
{
	struct rrl *r = table(0, 1);
	struct rrl_token t;
	struct sockaddr_in a = v4("198.51.100.7");
	uint32_t slips = 0;
	classify("www.r.test.", LDNS_RR_TYPE_A, &t);

	ck_assert_int_eq(passes(r, &a, &t, 5, 100, 20, &slips), 5);
	ck_assert_int_eq(passes(r, &a, &t, 5, 100, 20, &slips), 0);
	/* Every second brings one second's worth, no more. */
	ck_assert_int_eq(passes(r, &a, &t, 5, 101, 20, &slips), 5);
	ck_assert_int_eq(passes(r, &a, &t, 5, 110, 20, &slips), 5);
	/* A source at the rate is never limited. */
	for (uint32_t s = 200; s < 210; s++)
		ck_assert_int_eq(passes(r, &a, &t, 5, s, 5, &slips), 5);
	/* The 16-bit second wraps without harm. */
	ck_assert_int_eq(passes(r, &a, &t, 5, 65535, 10, &slips), 5);
	ck_assert_int_eq(passes(r, &a, &t, 5, 65536, 10, &slips), 5);
	rrl_free(r);
}
END_TEST

START_TEST(networks_and_classes_are_separate)
{
	struct rrl *r = table(0, 1);
	struct rrl_token pos, nx;
	struct sockaddr_in a = v4("198.51.100.7"), same24 = v4("198.51.100.200"),
			   other = v4("198.51.101.7");
	struct sockaddr_in6 b = v6("2001:db8:0:1::1"), same56 = v6("2001:db8:0:ff:ffff::9"),
			    other6 = v6("2001:db8:0:100::1");
	uint32_t slips = 0;
	classify("www.r.test.", LDNS_RR_TYPE_A, &pos);
	classify("nx.r.test.", LDNS_RR_TYPE_A, &nx);

	ck_assert_int_eq(passes(r, &a, &pos, 3, 7, 10, &slips), 3);
	/* The same /24 shares the bucket (a spoofed flood from a network). */
	ck_assert_int_eq(passes(r, &same24, &pos, 3, 7, 10, &slips), 0);
	/* Another /24, and another class from the same one, are untouched. */
	ck_assert_int_eq(passes(r, &other, &pos, 3, 7, 10, &slips), 3);
	ck_assert_int_eq(passes(r, &a, &nx, 3, 7, 10, &slips), 3);
	/* IPv6 by /56. */
	ck_assert_int_eq(passes(r, &b, &pos, 3, 7, 10, &slips), 3);
	ck_assert_int_eq(passes(r, &same56, &pos, 3, 7, 10, &slips), 0);
	ck_assert_int_eq(passes(r, &other6, &pos, 3, 7, 10, &slips), 3);
	rrl_free(r);
}
END_TEST

START_TEST(slip_every_nth)
{
	struct rrl *r = table(3, 1);
	struct rrl_token t;
	struct sockaddr_in a = v4("203.0.113.1");
	uint32_t slips = 0;
	int n_slip = 0, n_drop = 0;
	classify("www.r.test.", LDNS_RR_TYPE_A, &t);
	ck_assert_int_eq(passes(r, &a, &t, 2, 1, 2, &slips), 2);
	for (int i = 0; i < 30; i++) {
		enum rrl_verdict v = rrl_check(r, (struct sockaddr *)&a, &t, 2, 1, &slips);
		ck_assert_int_ne(v, RRL_PASS);
		n_slip += v == RRL_SLIP;
		n_drop += v == RRL_DROP;
		/* Every third limited response slips. */
		ck_assert_int_eq(v == RRL_SLIP, (i + 1) % 3 == 0);
	}
	ck_assert_int_eq(n_slip, 10);
	ck_assert_int_eq(n_drop, 20);
	rrl_free(r);

	/* slip 1: every limited response is truncated; 0: none. */
	r = table(1, 1);
	slips = 0;
	passes(r, &a, &t, 1, 1, 1, &slips);
	ck_assert_int_eq(rrl_check(r, (struct sockaddr *)&a, &t, 1, 1, &slips), RRL_SLIP);
	rrl_free(r);
	r = table(0, 1);
	passes(r, &a, &t, 1, 1, 1, &slips);
	ck_assert_int_eq(rrl_check(r, (struct sockaddr *)&a, &t, 1, 1, &slips), RRL_DROP);
	rrl_free(r);
}
END_TEST

START_TEST(window_keeps_a_flood_limited)
{
	struct rrl *r = table(0, 3);
	struct rrl_token t;
	struct sockaddr_in a = v4("203.0.113.1");
	uint32_t slips = 0;
	classify("www.r.test.", LDNS_RR_TYPE_A, &t);
	/* rate 4, window 3: limited responses run the debt down to -8. */
	ck_assert_int_eq(passes(r, &a, &t, 4, 50, 100, &slips), 4);
	ck_assert_int_eq(passes(r, &a, &t, 4, 51, 1, &slips), 0);
	ck_assert_int_eq(passes(r, &a, &t, 4, 52, 1, &slips), 0);
	/* -8 +4 -1 (51) +4 -1 (52) +4 = 2 tokens at 53. */
	ck_assert_int_eq(passes(r, &a, &t, 4, 53, 10, &slips), 2);
	/* Quiet for long: never more than one second's worth. */
	ck_assert_int_eq(passes(r, &a, &t, 4, 90, 10, &slips), 4);
	rrl_free(r);
}
END_TEST

START_TEST(truncated_form)
{
	uint8_t out[4096];
	struct answer_ctx ctx;
	size_t len = respond("www.r.test.", LDNS_RR_TYPE_A, out, &ctx);
	size_t tl = rrl_truncate(out, len);
	ck_assert_uint_eq(tl, 12 + 12 + 4); /* header, \3www\1r\4test\0, type, class */
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, tl), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_tc(p));
	ck_assert(ldns_pkt_qr(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_nscount(p), 0);
	ck_assert_int_eq(ldns_pkt_arcount(p), 0);
	ck_assert_int_eq(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	ck_assert_uint_eq(rrl_truncate(out, 11), 0);
	out[13] = 70; /* a label running past the end */
	ck_assert_uint_eq(rrl_truncate(out, 20), 0);
}
END_TEST

START_TEST(full_table_evicts)
{
	/* A table of 4096 buckets and 100000 sources: the oldest bucket of
	 * a set goes, so new sources get fresh buckets; only a 16-bit tag
	 * collision within a set (about 4 in 65536) shares one. */
	struct rrl *r = table(0, 1);
	struct rrl_token t;
	uint32_t slips = 0;
	int ok = 0;
	classify("www.r.test.", LDNS_RR_TYPE_A, &t);
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(0x0a000000u + (i << 8));
		ok += rrl_check(r, (struct sockaddr *)&a, &t, 1, 9 + i / 1000, &slips) == RRL_PASS;
	}
	ck_assert_int_ge(ok, 99900);
	rrl_free(r);
	struct rrl_config bad = {.window = 0, .size = 10};
	ck_assert_int_eq(rrl_new(&r, &bad, 1), MX_EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rrl");
	TCase *tc = tcase_create("rrl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, classes_and_tokens);
	tcase_add_test(tc, bucket_rate_per_second);
	tcase_add_test(tc, networks_and_classes_are_separate);
	tcase_add_test(tc, slip_every_nth);
	tcase_add_test(tc, window_keeps_a_flood_limited);
	tcase_add_test(tc, truncated_form);
	tcase_add_test(tc, full_table_evicts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

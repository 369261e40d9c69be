/* check_stats: zone slots, summing the workers' blocks, and the text,
 * JSON and Prometheus forms; metrics_route for the HTTP endpoint. */
#include "metrics.h"
#include "name.h"
#include "stats.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct stats *s, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, wire);
	ck_assert_int_gt(len, 0);
	name_lower(wire, wire, (size_t)len);
	return stats_zone_slot(s, wire, (size_t)len);
}

static char *render(const struct stats *s, const struct stats_sum *sum, int form)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	if (form == 0)
		stats_format_text(s, sum, f);
	else if (form == 1)
		stats_format_json(s, sum, f);
	else
		stats_format_prometheus(s, sum, f);
	fclose(f);
	return buf;
}

START_TEST(zone_slots)
{
	const char *names[] = {"example.com", "BL.Example.ORG.", "example.com.", "bad..name", "x.test"};
	struct stats *s = NULL;
	ck_assert_int_eq(stats_new(&s, 2, names, 5), 0);
	/* The repeated and the invalid name are skipped. */
	ck_assert_uint_eq(s->n_zones, 3);
	ck_assert_uint_eq(slot_of(s, "EXAMPLE.com"), 0);
	ck_assert_uint_eq(slot_of(s, "bl.example.org"), 1);
	ck_assert_uint_eq(slot_of(s, "x.test"), 2);
	ck_assert_uint_eq(slot_of(s, "other.test"), 3);
	ck_assert_uint_eq(stats_zone_slot(s, NULL, 0), 3);
	ck_assert_str_eq(s->zone_names[1], "BL.Example.ORG.");
	stats_free(s);
}
END_TEST

START_TEST(sum_over_workers)
{
	const char *names[] = {"a.test", "bl.test"};
	struct stats *s = NULL;
	struct stats_sum sum;
	ck_assert_int_eq(stats_new(&s, 3, names, 2), 0);
	/* Worker 0: two A answers in a.test; worker 2: a DNSBL hit, a
	 * REFUSED for no zone, an odd qtype. */
	stats_count_answer(s, &s->w[0], 1, 0, 0, 0);
	stats_count_answer(s, &s->w[0], 1, 3, 0, 0);
	stats_count_answer(s, &s->w[2], 16, 0, 1, 1);
	stats_count_answer(s, &s->w[2], 15, 5, 2, 0);
	stats_count_answer(s, &s->w[1], 65000, 16, 99, 0); /* slot past the end: other */
	stats_add(&s->w[0].queries[STATS_UDP], 10);
	stats_add(&s->w[1].queries[STATS_UDP], 5);
	stats_inc(&s->w[2].queries[STATS_TCP]);
	stats_inc(&s->w[1].rrl_dropped);
	stats_inc(&s->w[2].rrl_slipped);
	stats_add(&s->w[0].tcp_accepted, 4);
	stats_add(&s->w[1].tcp_accepted, 1);
	stats_add(&s->w[0].tcp_closed, 3);
	atomic_fetch_add(&s->reloads_ok, 2);
	atomic_fetch_add(&s->reloads_failed, 1);

	ck_assert_int_eq(stats_sum(s, &sum), 0);
	ck_assert_uint_eq(sum.queries[STATS_UDP], 15);
	ck_assert_uint_eq(sum.queries[STATS_TCP], 1);
	ck_assert_uint_eq(sum.rcode[0], 2);
	ck_assert_uint_eq(sum.rcode[3], 1);
	ck_assert_uint_eq(sum.rcode[5], 1);
	ck_assert_uint_eq(sum.rcode[16], 1);
	ck_assert_uint_eq(sum.qtype[STATS_QT_A], 2);
	ck_assert_uint_eq(sum.qtype[STATS_QT_TXT], 1);
	ck_assert_uint_eq(sum.qtype[STATS_QT_MX], 1);
	ck_assert_uint_eq(sum.qtype[STATS_QT_OTHER], 1);
	ck_assert_uint_eq(sum.zone_queries[0], 2);
	ck_assert_uint_eq(sum.zone_queries[1], 1);
	ck_assert_uint_eq(sum.zone_hits[1], 1);
	ck_assert_uint_eq(sum.zone_queries[2], 2);
	ck_assert_uint_eq(sum.rrl_dropped, 1);
	ck_assert_uint_eq(sum.rrl_slipped, 1);
	ck_assert_uint_eq(sum.tcp_accepted, 5);
	ck_assert_uint_eq(sum.tcp_open, 2);
	ck_assert_uint_eq(sum.reloads_ok, 2);
	ck_assert_uint_eq(sum.reloads_failed, 1);

	char *text = render(s, &sum, 0);
	ck_assert_ptr_nonnull(strstr(text, "queries-udp: 15\n"));
	ck_assert_ptr_nonnull(strstr(text, "queries-tcp: 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "rcode-NOERROR: 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "rcode-BADVERS: 1\n"));
	ck_assert_ptr_null(strstr(text, "rcode-YXDOMAIN")); /* zero, and not a usual one */
	ck_assert_ptr_nonnull(strstr(text, "qtype-other: 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "rrl-slipped: 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "tcp-open: 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "reloads-failed: 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "zone a.test.: queries=2 dnsbl-hits=0\n"));
	ck_assert_ptr_nonnull(strstr(text, "zone bl.test.: queries=1 dnsbl-hits=1\n"));
	ck_assert_ptr_nonnull(strstr(text, "zone other: queries=2 dnsbl-hits=0\n"));
	free(text);

	char *json = render(s, &sum, 1);
	ck_assert_ptr_nonnull(strstr(json, "\"queries\": {\"udp\": 15, \"tcp\": 1},\n"));
	ck_assert_ptr_nonnull(strstr(json, "\"rrl-dropped\": 1,\n"));
	ck_assert_ptr_nonnull(strstr(json, "\"BADVERS\": 1"));
	ck_assert_ptr_nonnull(strstr(json, "{\"zone\": \"bl.test.\", \"queries\": 1, \"dnsbl_hits\": 1}"));
	ck_assert_int_eq(json[0], '{');
	ck_assert_str_eq(json + strlen(json) - 4, "]\n}\n");
	free(json);

	char *prom = render(s, &sum, 2);
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_queries_total{proto=\"udp\"} 15\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_responses_total{rcode=\"NXDOMAIN\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_queries_by_qtype_total{qtype=\"A\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_dnsbl_hits_total{zone=\"bl.test.\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_zone_queries_total{zone=\"other\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_rrl_responses_total{action=\"dropped\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_reloads_total{result=\"ok\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(prom, "\nmxdns_tcp_connections_open 2\n"));
	/* Every line is a comment or "name{labels} value". */
	for (char *line = prom, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		if (line[0] == '#')
			continue;
		ck_assert_msg(strncmp(line, "mxdns_", 6) == 0, "bad line %.*s", (int)(nl - line), line);
		char *sp = memchr(line, ' ', (size_t)(nl - line));
		ck_assert_ptr_nonnull(sp);
		for (char *d = sp + 1; d < nl; d++)
			ck_assert(*d >= '0' && *d <= '9');
	}
	free(prom);
	stats_sum_cleanup(&sum);
	stats_free(s);
}
END_TEST

START_TEST(escaped_zone_names)
{
	const char *names[] = {"we\\\"ird.test"};
	struct stats *s = NULL;
	struct stats_sum sum;
	ck_assert_int_eq(stats_new(&s, 1, names, 1), 0);
	ck_assert_int_eq(stats_sum(s, &sum), 0);
	char *prom = render(s, &sum, 2);
	ck_assert_ptr_nonnull(strstr(prom, "{zone=\"we\\\\\\\"ird.test.\"}"));
	free(prom);
	stats_sum_cleanup(&sum);
	stats_free(s);
}
END_TEST

START_TEST(qtype_and_rcode_names)
{
	ck_assert_int_eq(stats_qtype_index(1), STATS_QT_A);
	ck_assert_int_eq(stats_qtype_index(257), STATS_QT_CAA);
	ck_assert_int_eq(stats_qtype_index(0), STATS_QT_OTHER);
	ck_assert_int_eq(stats_qtype_index(99), STATS_QT_OTHER);
	ck_assert_str_eq(stats_qtype_name(STATS_QT_HTTPS), "HTTPS");
	ck_assert_str_eq(stats_rcode_name(5), "REFUSED");
	ck_assert_ptr_null(stats_rcode_name(12));
	ck_assert_ptr_null(stats_rcode_name(400));
}
END_TEST

START_TEST(metrics_routes)
{
	const char *ok = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	ck_assert_int_eq(metrics_route(ok, strlen(ok)), 200);
	ck_assert_int_eq(metrics_route("GET /metrics?x=1 HTTP/1.0\r\n\r\n", 29), 200);
	ck_assert_int_eq(metrics_route("GET /metricsx HTTP/1.0\r\n\r\n", 26), 404);
	ck_assert_int_eq(metrics_route("GET / HTTP/1.0\r\n\r\n", 18), 404);
	ck_assert_int_eq(metrics_route("POST /metrics HTTP/1.0\r\n\r\n", 26), 405);
	ck_assert_int_eq(metrics_route("\x16\x03\x01", 3), 400);
	ck_assert_int_eq(metrics_route("", 0), 400);
	ck_assert_int_eq(metrics_route("GET ", 4), 400);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");
	tcase_add_test(tc, zone_slots);
	tcase_add_test(tc, sum_over_workers);
	tcase_add_test(tc, escaped_zone_names);
	tcase_add_test(tc, qtype_and_rcode_names);
	tcase_add_test(tc, metrics_routes);
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

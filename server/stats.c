/* stats: per-worker counters, their sum, and the three ways to show it. */
#include "stats.h"

#include "name.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	uint16_t type;
	const char *name;
} qtypes[STATS_QTYPES] = {
	[STATS_QT_A] = {1, "A"},          [STATS_QT_NS] = {2, "NS"},
	[STATS_QT_CNAME] = {5, "CNAME"},  [STATS_QT_SOA] = {6, "SOA"},
	[STATS_QT_PTR] = {12, "PTR"},     [STATS_QT_MX] = {15, "MX"},
	[STATS_QT_TXT] = {16, "TXT"},     [STATS_QT_AAAA] = {28, "AAAA"},
	[STATS_QT_SRV] = {33, "SRV"},     [STATS_QT_NAPTR] = {35, "NAPTR"},
	[STATS_QT_DS] = {43, "DS"},       [STATS_QT_DNSKEY] = {48, "DNSKEY"},
	[STATS_QT_TLSA] = {52, "TLSA"},   [STATS_QT_SVCB] = {64, "SVCB"},
	[STATS_QT_HTTPS] = {65, "HTTPS"}, [STATS_QT_CAA] = {257, "CAA"},
	[STATS_QT_ANY] = {255, "ANY"},    [STATS_QT_AXFR] = {252, "AXFR"},
	[STATS_QT_IXFR] = {251, "IXFR"},  [STATS_QT_OTHER] = {0, "other"},
};

/* RFC 6895 §2.3, the ones a server of ours can send. */
static const char *const rcodes[STATS_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", NULL, NULL, NULL, NULL, "BADVERS",
};

enum stats_qtype stats_qtype_index(uint16_t qtype)
{
	/* A switch, not a scan of the table: this runs for every answer. */
	switch (qtype) {
	case 1: return STATS_QT_A;
	case 2: return STATS_QT_NS;
	case 5: return STATS_QT_CNAME;
	case 6: return STATS_QT_SOA;
	case 12: return STATS_QT_PTR;
	case 15: return STATS_QT_MX;
	case 16: return STATS_QT_TXT;
	case 28: return STATS_QT_AAAA;
	case 33: return STATS_QT_SRV;
	case 35: return STATS_QT_NAPTR;
	case 43: return STATS_QT_DS;
	case 48: return STATS_QT_DNSKEY;
	case 52: return STATS_QT_TLSA;
	case 64: return STATS_QT_SVCB;
	case 65: return STATS_QT_HTTPS;
	case 257: return STATS_QT_CAA;
	case 255: return STATS_QT_ANY;
	case 252: return STATS_QT_AXFR;
	case 251: return STATS_QT_IXFR;
	}
	return STATS_QT_OTHER;
}

const char *stats_qtype_name(enum stats_qtype i)
{
	return (unsigned)i < STATS_QTYPES ? qtypes[i].name : "other";
}

const char *stats_rcode_name(unsigned rcode)
{
	return rcode < STATS_RCODES ? rcodes[rcode] : NULL;
}

static size_t lookup(const struct stats *s, const uint8_t *apex, size_t len)
{
	if (s->table == NULL || apex == NULL)
		return s->n_zones;
	for (uint32_t i = name_hash(apex, len) & s->table_mask;; i = (i + 1) & s->table_mask) {
		uint32_t v = s->table[i];
		if (v == 0)
			return s->n_zones;
		if (s->zone_apex_len[v - 1] == len && memcmp(s->zone_apex[v - 1], apex, len) == 0)
			return v - 1;
	}
}

size_t stats_zone_slot(const struct stats *s, const uint8_t *apex, size_t apex_len)
{
	return lookup(s, apex, apex_len);
}

int stats_new(struct stats **out, int n_workers, const char *const *zones, size_t n)
{
	struct stats *s = calloc(1, sizeof(*s));
	size_t cap = n < STATS_MAX_ZONES ? n : STATS_MAX_ZONES;
	uint32_t size = 16;

	*out = NULL;
	if (s == NULL)
		return -ENOMEM;
	while (size < 2 * cap)
		size *= 2;
	s->n_workers = n_workers;
	s->zone_names = calloc(cap + 1, sizeof(char *));
	s->zone_apex = calloc(cap + 1, sizeof(uint8_t *));
	s->zone_apex_len = calloc(cap + 1, 1);
	s->table = calloc(size, sizeof(uint32_t));
	s->table_mask = size - 1;
	s->w = aligned_alloc(64, sizeof(struct stats_worker) * (size_t)(n_workers > 0 ? n_workers : 1));
	if (s->zone_names == NULL || s->zone_apex == NULL || s->zone_apex_len == NULL ||
	    s->table == NULL || s->w == NULL)
		goto nomem;
	memset(s->w, 0, sizeof(struct stats_worker) * (size_t)(n_workers > 0 ? n_workers : 1));
	for (size_t i = 0; i < n && s->n_zones < cap; i++) {
		uint8_t wire[NAME_MAXLEN];
		char text[NAME_MAXLEN * 4 + 2];
		int len = name_from_text(zones[i], wire);
		if (len < 0 || name_to_text(wire, text, sizeof(text)) < 0)
			continue;
		name_lower(wire, wire, (size_t)len);
		if (lookup(s, wire, (size_t)len) != s->n_zones)
			continue;
		size_t k = s->n_zones;
		s->zone_apex[k] = malloc((size_t)len);
		s->zone_names[k] = strdup(text);
		if (s->zone_apex[k] == NULL || s->zone_names[k] == NULL) {
			free(s->zone_apex[k]);
			free(s->zone_names[k]);
			s->zone_apex[k] = NULL;
			s->zone_names[k] = NULL;
			goto nomem;
		}
		memcpy(s->zone_apex[k], wire, (size_t)len);
		s->zone_apex_len[k] = (uint8_t)len;
		uint32_t j = name_hash(wire, (size_t)len) & s->table_mask;
		while (s->table[j] != 0)
			j = (j + 1) & s->table_mask;
		s->table[j] = (uint32_t)k + 1;
		s->n_zones++;
	}
	for (int i = 0; i < n_workers; i++) {
		/* Each array in its own cache lines: workers never share one. */
		size_t bytes = ((s->n_zones + 1) * sizeof(stats_counter) + 63) / 64 * 64;
		s->w[i].zone_queries = aligned_alloc(64, bytes);
		s->w[i].zone_hits = aligned_alloc(64, bytes);
		if (s->w[i].zone_queries == NULL || s->w[i].zone_hits == NULL)
			goto nomem;
		memset(s->w[i].zone_queries, 0, bytes);
		memset(s->w[i].zone_hits, 0, bytes);
	}
	*out = s;
	return 0;
nomem:
	stats_free(s);
	return -ENOMEM;
}

void stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	for (int i = 0; s->w && i < s->n_workers; i++) {
		free(s->w[i].zone_queries);
		free(s->w[i].zone_hits);
	}
	free(s->w);
	for (size_t i = 0; i < s->n_zones; i++) {
		free(s->zone_names[i]);
		free(s->zone_apex[i]);
	}
	free(s->zone_names);
	free(s->zone_apex);
	free(s->zone_apex_len);
	free(s->table);
	free(s);
}

void stats_count_answer(const struct stats *s, struct stats_worker *w, uint16_t qtype,
			unsigned rcode, size_t zone_slot, int hit)
{
	stats_inc(&w->rcode[rcode < STATS_RCODES ? rcode : 0]);
	stats_inc(&w->qtype[stats_qtype_index(qtype)]);
	if (zone_slot > s->n_zones)
		zone_slot = s->n_zones;
	stats_inc(&w->zone_queries[zone_slot]);
	if (hit)
		stats_inc(&w->zone_hits[zone_slot]);
}

static uint64_t get(const stats_counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

int stats_sum(const struct stats *s, struct stats_sum *out)
{
	memset(out, 0, sizeof(*out));
	out->n_zones = s->n_zones;
	out->zone_queries = calloc(s->n_zones + 1, sizeof(uint64_t));
	out->zone_hits = calloc(s->n_zones + 1, sizeof(uint64_t));
	if (out->zone_queries == NULL || out->zone_hits == NULL) {
		stats_sum_cleanup(out);
		return -ENOMEM;
	}
	for (int i = 0; i < s->n_workers; i++) {
		const struct stats_worker *w = &s->w[i];
		for (int k = 0; k < 2; k++)
			out->queries[k] += get(&w->queries[k]);
		for (int k = 0; k < STATS_RCODES; k++)
			out->rcode[k] += get(&w->rcode[k]);
		for (int k = 0; k < STATS_QTYPES; k++)
			out->qtype[k] += get(&w->qtype[k]);
#define STATS_SUM(f) out->f += get(&w->f);
		STATS_FIELDS(STATS_SUM)
#undef STATS_SUM
		for (size_t k = 0; k <= s->n_zones; k++) {
			out->zone_queries[k] += get(&w->zone_queries[k]);
			out->zone_hits[k] += get(&w->zone_hits[k]);
		}
	}
	/* Two counters written by the same worker: the difference is exact
	 * for it, and summing differences keeps it so. */
	out->tcp_open = out->tcp_accepted >= out->tcp_closed ? out->tcp_accepted - out->tcp_closed : 0;
	out->reloads_ok = atomic_load_explicit(&s->reloads_ok, memory_order_relaxed);
	out->reloads_failed = atomic_load_explicit(&s->reloads_failed, memory_order_relaxed);
	return 0;
}

void stats_sum_cleanup(struct stats_sum *sum)
{
	free(sum->zone_queries);
	free(sum->zone_hits);
	sum->zone_queries = sum->zone_hits = NULL;
}

static const char *zone_label(const struct stats *s, size_t k)
{
	return k < s->n_zones ? s->zone_names[k] : "other";
}

/* The scalar counters with their names, shared by the three forms. */
#define SCALARS(X)                                                                             \
	X("dropped", dropped)                                                               \
	X("send-failed", send_failed)                                                       \
	X("udp-pauses", udp_pauses)                                                         \
	X("truncated", truncated)                                                           \
	X("rrl-dropped", rrl_dropped)                                                       \
	X("rrl-slipped", rrl_slipped)                                                       \
	X("tcp-accepted", tcp_accepted)                                                     \
	X("tcp-refused", tcp_refused)                                                       \
	X("tcp-timeouts", tcp_timeouts)                                                     \
	X("tcp-open", tcp_open)                                                             \
	X("reloads-ok", reloads_ok)                                                         \
	X("reloads-failed", reloads_failed)

void stats_format_text(const struct stats *s, const struct stats_sum *sum, FILE *out)
{
	fprintf(out, "queries-udp: %llu\n", (unsigned long long)sum->queries[STATS_UDP]);
	fprintf(out, "queries-tcp: %llu\n", (unsigned long long)sum->queries[STATS_TCP]);
#define TEXT(name, f) fprintf(out, name ": %llu\n", (unsigned long long)sum->f);
	SCALARS(TEXT)
#undef TEXT
	for (unsigned k = 0; k < STATS_RCODES; k++) {
		const char *n = stats_rcode_name(k);
		if (sum->rcode[k] == 0 && (k > 5 || n == NULL))
			continue;
		if (n)
			fprintf(out, "rcode-%s: %llu\n", n, (unsigned long long)sum->rcode[k]);
		else
			fprintf(out, "rcode-%u: %llu\n", k, (unsigned long long)sum->rcode[k]);
	}
	for (int k = 0; k < STATS_QTYPES; k++)
		if (sum->qtype[k] != 0)
			fprintf(out, "qtype-%s: %llu\n", stats_qtype_name((enum stats_qtype)k),
				(unsigned long long)sum->qtype[k]);
	for (size_t k = 0; k <= s->n_zones && k <= sum->n_zones; k++) {
		if (k == s->n_zones && sum->zone_queries[k] == 0)
			continue;
		fprintf(out, "zone %s: queries=%llu dnsbl-hits=%llu\n", zone_label(s, k),
			(unsigned long long)sum->zone_queries[k], (unsigned long long)sum->zone_hits[k]);
	}
}

/* A JSON or Prometheus label string: the escapes both formats share
 * (zone names in presentation form are printable ASCII, but \ and " may
 * appear escaped in them). */
static void quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void stats_format_json(const struct stats *s, const struct stats_sum *sum, FILE *out)
{
	fprintf(out, "{\n\"queries\": {\"udp\": %llu, \"tcp\": %llu},\n",
		(unsigned long long)sum->queries[STATS_UDP], (unsigned long long)sum->queries[STATS_TCP]);
#define JSON(name, f) fprintf(out, "\"" name "\": %llu,\n", (unsigned long long)sum->f);
	SCALARS(JSON)
#undef JSON
	fputs("\"rcode\": {", out);
	int first = 1;
	for (unsigned k = 0; k < STATS_RCODES; k++) {
		const char *n = stats_rcode_name(k);
		if (sum->rcode[k] == 0 && (k > 5 || n == NULL))
			continue;
		if (n)
			fprintf(out, "%s\"%s\": %llu", first ? "" : ", ", n,
				(unsigned long long)sum->rcode[k]);
		else
			fprintf(out, "%s\"%u\": %llu", first ? "" : ", ", k,
				(unsigned long long)sum->rcode[k]);
		first = 0;
	}
	fputs("},\n\"qtype\": {", out);
	for (int k = 0; k < STATS_QTYPES; k++)
		fprintf(out, "%s\"%s\": %llu", k ? ", " : "", stats_qtype_name((enum stats_qtype)k),
			(unsigned long long)sum->qtype[k]);
	fputs("},\n\"zones\": [", out);
	for (size_t k = 0; k <= s->n_zones && k <= sum->n_zones; k++) {
		fputs(k ? ",\n" : "\n", out);
		fputs("{\"zone\": ", out);
		quoted(out, zone_label(s, k));
		fprintf(out, ", \"queries\": %llu, \"dnsbl_hits\": %llu}",
			(unsigned long long)sum->zone_queries[k], (unsigned long long)sum->zone_hits[k]);
	}
	fputs("\n]\n}\n", out);
}

void stats_format_prometheus(const struct stats *s, const struct stats_sum *sum, FILE *out)
{
	fputs("# HELP mxdns_queries_total Queries received, by transport.\n"
	      "# TYPE mxdns_queries_total counter\n",
	      out);
	fprintf(out, "mxdns_queries_total{proto=\"udp\"} %llu\n",
		(unsigned long long)sum->queries[STATS_UDP]);
	fprintf(out, "mxdns_queries_total{proto=\"tcp\"} %llu\n",
		(unsigned long long)sum->queries[STATS_TCP]);
	fputs("# HELP mxdns_responses_total Responses, by rcode (RRL-limited ones included).\n"
	      "# TYPE mxdns_responses_total counter\n",
	      out);
	for (unsigned k = 0; k < STATS_RCODES; k++) {
		const char *n = stats_rcode_name(k);
		if (sum->rcode[k] == 0 && (k > 5 || n == NULL))
			continue;
		if (n)
			fprintf(out, "mxdns_responses_total{rcode=\"%s\"} %llu\n", n,
				(unsigned long long)sum->rcode[k]);
		else
			fprintf(out, "mxdns_responses_total{rcode=\"%u\"} %llu\n", k,
				(unsigned long long)sum->rcode[k]);
	}
	fputs("# HELP mxdns_queries_by_qtype_total Answered queries, by query type.\n"
	      "# TYPE mxdns_queries_by_qtype_total counter\n",
	      out);
	for (int k = 0; k < STATS_QTYPES; k++)
		fprintf(out, "mxdns_queries_by_qtype_total{qtype=\"%s\"} %llu\n",
			stats_qtype_name((enum stats_qtype)k), (unsigned long long)sum->qtype[k]);
	fputs("# HELP mxdns_zone_queries_total Answered queries, by zone.\n"
	      "# TYPE mxdns_zone_queries_total counter\n",
	      out);
	for (size_t k = 0; k <= s->n_zones && k <= sum->n_zones; k++) {
		fputs("mxdns_zone_queries_total{zone=", out);
		quoted(out, zone_label(s, k));
		fprintf(out, "} %llu\n", (unsigned long long)sum->zone_queries[k]);
	}
	fputs("# HELP mxdns_dnsbl_hits_total DNSBL answers saying listed, by zone.\n"
	      "# TYPE mxdns_dnsbl_hits_total counter\n",
	      out);
	for (size_t k = 0; k <= s->n_zones && k <= sum->n_zones; k++) {
		fputs("mxdns_dnsbl_hits_total{zone=", out);
		quoted(out, zone_label(s, k));
		fprintf(out, "} %llu\n", (unsigned long long)sum->zone_hits[k]);
	}
	fprintf(out,
		"# HELP mxdns_rrl_responses_total Responses limited by RRL, by action.\n"
		"# TYPE mxdns_rrl_responses_total counter\n"
		"mxdns_rrl_responses_total{action=\"dropped\"} %llu\n"
		"mxdns_rrl_responses_total{action=\"slipped\"} %llu\n",
		(unsigned long long)sum->rrl_dropped, (unsigned long long)sum->rrl_slipped);
	fprintf(out,
		"# HELP mxdns_dropped_total Queries not answered: malformed, QR set, oversized.\n"
		"# TYPE mxdns_dropped_total counter\nmxdns_dropped_total %llu\n"
		"# HELP mxdns_send_failed_total UDP answers the kernel refused.\n"
		"# TYPE mxdns_send_failed_total counter\nmxdns_send_failed_total %llu\n"
		"# HELP mxdns_truncated_total Answers sent with TC=1 (not RRL slips).\n"
		"# TYPE mxdns_truncated_total counter\nmxdns_truncated_total %llu\n"
		"# HELP mxdns_udp_pauses_total Pauses before reading UDP under load (udp-coalesce).\n"
		"# TYPE mxdns_udp_pauses_total counter\nmxdns_udp_pauses_total %llu\n",
		(unsigned long long)sum->dropped, (unsigned long long)sum->send_failed,
		(unsigned long long)sum->truncated, (unsigned long long)sum->udp_pauses);
	fprintf(out,
		"# HELP mxdns_reloads_total Reloads, by result.\n"
		"# TYPE mxdns_reloads_total counter\n"
		"mxdns_reloads_total{result=\"ok\"} %llu\n"
		"mxdns_reloads_total{result=\"failed\"} %llu\n",
		(unsigned long long)sum->reloads_ok, (unsigned long long)sum->reloads_failed);
	fprintf(out,
		"# HELP mxdns_tcp_connections_total TCP connections, by event.\n"
		"# TYPE mxdns_tcp_connections_total counter\n"
		"mxdns_tcp_connections_total{event=\"accepted\"} %llu\n"
		"mxdns_tcp_connections_total{event=\"refused\"} %llu\n"
		"mxdns_tcp_connections_total{event=\"timeout\"} %llu\n"
		"# HELP mxdns_tcp_connections_open TCP connections open now.\n"
		"# TYPE mxdns_tcp_connections_open gauge\n"
		"mxdns_tcp_connections_open %llu\n",
		(unsigned long long)sum->tcp_accepted, (unsigned long long)sum->tcp_refused,
		(unsigned long long)sum->tcp_timeouts, (unsigned long long)sum->tcp_open);
}

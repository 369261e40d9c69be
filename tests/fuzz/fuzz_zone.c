/* fuzz_zone: the bytes as master-file text (RFC 1035 §5) for the zone
 * example.com, through zone_from_text (zones/zone.h), which parses with
 * ldns and compiles. Text zones refuse $INCLUDE, so the input never
 * reaches the file system.
 *
 * A zone that compiles is then answered from: a few queries for each of
 * its first nodes go through answer_build, and ldns must be able to read
 * every response, so compiled RRsets that render badly are found here and
 * not by a resolver. */
#include "fuzz.h"

#include "answer.h"
#include "name.h"
#include "zone.h"
#include "zonedb.h"

#include <ldns/ldns.h>

#define FUZZ_ZONE_MAX_NODES 24

/* A query for name/type, id 0x4242, with EDNS (4096) when edns is set. */
static size_t fuzz_zone_query(uint8_t *q, const uint8_t *name, size_t nlen, uint16_t type,
			      int edns)
{
	static const uint8_t hdr[12] = {0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t opt[11] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	size_t n = 0;
	memcpy(q, hdr, sizeof(hdr));
	if (edns)
		q[11] = 1;
	n = sizeof(hdr);
	memcpy(q + n, name, nlen);
	n += nlen;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;
	if (edns) {
		memcpy(q + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

static void fuzz_zone_ask(const struct zonedb *db, const uint8_t *name, size_t nlen, uint16_t type,
			  int tcp)
{
	static uint8_t out[65535];
	uint8_t q[12 + NAME_MAXLEN + 4 + 11];
	struct answer_opts opts = {.udp_size = 1232, .version = "fuzz", .identity = NULL};
	struct answer_ctx ctx = {.opts = &opts, .proto = tcp ? ANSWER_TCP : ANSWER_UDP};
	size_t qlen = fuzz_zone_query(q, name, nlen, type, !tcp);
	size_t n = answer_build(q, qlen, db, &ctx, out, sizeof(out));
	FUZZ_CHECK(n >= 12);
	/* The UDP path's steps (answer.h) must give the same bytes. */
	static uint8_t out2[65535];
	static struct answer_pre pre;
	answer_pre_parse(&pre, q, qlen, db);
	for (int step = 0; step < ANSWER_PREFETCH_STEPS; step++)
		answer_prefetch(&pre, NULL);
	FUZZ_CHECK(answer_pre_build(&pre, db, &ctx, out2, sizeof(out2)) == n && memcmp(out, out2, n) == 0);
	if (!tcp)
		FUZZ_CHECK(n <= 1232);
	ldns_pkt *resp = NULL;
	ldns_status s = ldns_wire2pkt(&resp, out, n);
	if (s != LDNS_STATUS_OK) {
		fprintf(stderr, "fuzz_zone: ldns cannot read the %zu-byte answer to type %u: %s\n",
			n, type, ldns_get_errorstr_by_id(s));
		abort();
	}
	ldns_pkt_free(resp);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static int quiet;
	static const uint16_t types[] = {RR_ANY, RR_A, RR_MX, RR_TXT, RR_NS, RR_CNAME, RR_DS};
	char err[512];
	struct zonedb *db = NULL;
	char *text = fuzz_cstr(data, size);
	if (!quiet) {
		fuzz_quiet();
		quiet = 1;
	}
	if (!text)
		return 0;
	err[0] = '\0';
	struct zone *z = zone_from_text("example.com", text, "fuzz.zone", err, sizeof(err));
	if (!z) {
		FUZZ_CHECK(err[0] != '\0'); /* a failure always says why */
		goto done;
	}
	FUZZ_CHECK(z->soa != NULL && z->apex_node != NULL);
	FUZZ_CHECK(zone_find(z, z->apex, z->apex_len) == z->apex_node);
	db = zonedb_from_zones(&z, 1);
	FUZZ_CHECK(db != NULL);
	for (size_t i = 0; i < z->n_nodes && i < FUZZ_ZONE_MAX_NODES; i++) {
		const struct zone_node *node = &z->nodes[i];
		/* Nodes below a DNAME stay out of the table (RFC 6672 §2.3:
		 * occluded); every other node is found as itself. */
		const struct zone_node *found = zone_find(z, node->name, node->name_len);
		FUZZ_CHECK(found == node || found == NULL);
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			fuzz_zone_ask(db, node->name, node->name_len, types[t], 0);
		for (uint16_t r = 0; r < node->n_rrsets; r++)
			fuzz_zone_ask(db, node->name, node->name_len, node->rrsets[r].type, 1);
	}
	zonedb_free(db);
	zone_unref(z);
done:
	free(text);
	return 0;
}

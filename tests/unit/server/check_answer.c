/* check_answer: the protocol core on byte arrays, one test per RFC rule.
 * Queries are built and responses read with ldns, an independent client
 * library, so the assertions do not trust our own encoder. */
#include "answer.h"
#include "query.h"
#include "zone.h"
#include "zonedb.h"

#include <check.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

static const char *zone_text =
	"$TTL 3600\n"
	"@ IN SOA ns1.example.com. hostmaster.example.com. 2026112801 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ NS ns2.example.net.\n"
	"@ MX 10 mx1\n"
	"@ MX 20 mx2.example.com.\n"
	"@ TXT \"v=spf1 mx -all\"\n"
	"@ A 192.0.2.1\n"
	"ns1 A 192.0.2.53\n"
	"mx1 A 192.0.2.25\n"
	"mx1 AAAA 2001:db8::25\n"
	"mx2 A 192.0.2.26\n"
	"www CNAME host\n"
	"host A 192.0.2.80\n"
	"ext CNAME www.example.org.\n"
	"loop1 CNAME loop2\n"
	"loop2 CNAME loop1\n"
	"dangling CNAME nothere\n"
	"a.b.c.ent A 192.0.2.7\n"
	"*.wild A 192.0.2.99\n"
	"*.wild MX 5 mx1\n"
	"exists.wild TXT \"here\"\n"
	"*.cnwild CNAME host\n"
	"dn DNAME example.net.\n"
	"dnin DNAME host.example.com.\n"
	"signedcn CNAME host\n"
	"signedcn RRSIG CNAME 13 3 3600 20300101000000 20200101000000 12345 example.com. "
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n"
	"signedcn NSEC sub.example.com. CNAME RRSIG NSEC\n"
	"sub NS ns.sub\n"
	"sub DS 12345 13 2 "
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"ns.sub A 192.0.2.60\n"
	"_submission._tcp SRV 0 1 587 mx1\n"
	"big TXT \"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"\n"
	"big TXT \"" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" "\"\n"
	"big TXT \"" "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" "\"\n";

static struct zonedb *db;
static struct answer_opts opts = {.udp_size = 1232, .version = "mxdnsd test", .identity = NULL};

static void setup(void)
{
	char err[512];
	struct zone *z = zone_from_text("example.com", zone_text, "test.zone", err, sizeof(err));
	ck_assert_msg(z != NULL, "zone failed: %s", err);
	db = zonedb_from_zones(&z, 1);
	zone_unref(z);
	ck_assert_ptr_nonnull(db);
}

static void teardown(void)
{
	zonedb_free(db);
}

struct q {
	const char *name;
	uint16_t type;
	uint16_t klass;
	int edns;        /* 0: none, else the advertised size */
	int edns_version;
	int dnssec_ok;
	enum answer_proto proto;
};

/* Answers q; returns the parsed response (NULL if dropped); raw/rawlen
 * receive the bytes when given. */
static ldns_pkt *ask_full(struct q q, uint8_t *raw, size_t *rawlen)
{
	ldns_pkt *query = NULL, *resp = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	ldns_rdf *name = ldns_dname_new_frm_str(q.name);
	ck_assert_ptr_nonnull(name);
	query = ldns_pkt_query_new(name, q.type, q.klass ? q.klass : LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(query, 4242);
	if (q.edns) {
		ldns_pkt_set_edns_udp_size(query, (uint16_t)q.edns);
		ldns_pkt_set_edns_version(query, (uint8_t)q.edns_version);
		ldns_pkt_set_edns_do(query, q.dnssec_ok);
		ldns_pkt_set_edns_data(query, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, query, &wlen), LDNS_STATUS_OK);
	uint8_t out[65535];
	struct answer_ctx ctx = {.opts = &opts, .proto = q.proto};
	size_t n = answer_build(wire, wlen, db, &ctx, out, sizeof(out));
	if (n) {
		ck_assert_int_eq(ldns_wire2pkt(&resp, out, n), LDNS_STATUS_OK);
		ck_assert_int_eq(ldns_pkt_id(resp), 4242);
		ck_assert(ldns_pkt_qr(resp));
	}
	if (raw) {
		memcpy(raw, out, n);
		*rawlen = n;
	}
	free(wire);
	ldns_pkt_free(query);
	return resp;
}

static ldns_pkt *ask(const char *name, uint16_t type)
{
	return ask_full((struct q){.name = name, .type = type}, NULL, NULL);
}

static int count_type(const ldns_rr_list *l, ldns_rr_type t)
{
	int n = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t;
	return n;
}

static int has_rr(const ldns_rr_list *l, const char *text)
{
	ldns_rr *want = NULL;
	ck_assert_int_eq(ldns_rr_new_frm_str(&want, text, 0, NULL, NULL), LDNS_STATUS_OK);
	int found = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && !found; i++)
		found = ldns_rr_compare(ldns_rr_list_rr(l, i), want) == 0 &&
			ldns_rr_ttl(ldns_rr_list_rr(l, i)) == ldns_rr_ttl(want);
	ldns_rr_free(want);
	return found;
}

/* Answers from example.com as in text (label names it in errors) until
 * serve_back(); returns the database to go back to. */
static struct zonedb *serve_zone(const char *text, const char *label)
{
	char err[512];
	struct zone *z = zone_from_text("example.com", text, label, err, sizeof(err));
	ck_assert_msg(z != NULL, "%s", err);
	struct zonedb *saved = db;
	db = zonedb_from_zones(&z, 1);
	zone_unref(z);
	return saved;
}

static void serve_back(struct zonedb *saved)
{
	zonedb_free(db);
	db = saved;
}

START_TEST(apex_soa_is_authoritative)
{
	ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_SOA);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_aa(r));
	ck_assert(!ldns_pkt_tc(r));
	ck_assert(has_rr(ldns_pkt_answer(r), "example.com. 3600 IN SOA ns1.example.com. "
					     "hostmaster.example.com. 2026112801 7200 3600 1209600 300"));
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(mx_with_additional_addresses)
{
	ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_MX);
	ck_assert_int_eq(ldns_pkt_ancount(r), 2);
	ck_assert(has_rr(ldns_pkt_answer(r), "example.com. 3600 IN MX 10 mx1.example.com."));
	ck_assert(has_rr(ldns_pkt_answer(r), "example.com. 3600 IN MX 20 mx2.example.com."));
	/* RFC 1035 §3.3.9: A/AAAA of in-zone exchanges in additional. */
	ck_assert(has_rr(ldns_pkt_additional(r), "mx1.example.com. 3600 IN A 192.0.2.25"));
	ck_assert(has_rr(ldns_pkt_additional(r), "mx1.example.com. 3600 IN AAAA 2001:db8::25"));
	ck_assert(has_rr(ldns_pkt_additional(r), "mx2.example.com. 3600 IN A 192.0.2.26"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(srv_with_additional)
{
	ldns_pkt *r = ask("_submission._tcp.example.com.", LDNS_RR_TYPE_SRV);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert(has_rr(ldns_pkt_additional(r), "mx1.example.com. 3600 IN A 192.0.2.25"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(nxdomain_has_soa_with_negative_ttl)
{
	ldns_pkt *r = ask("nope.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ck_assert(ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	/* RFC 2308 §3: TTL = min(SOA TTL 3600, MINIMUM 300). */
	ck_assert(has_rr(ldns_pkt_authority(r), "example.com. 300 IN SOA ns1.example.com. "
						"hostmaster.example.com. 2026112801 7200 3600 1209600 300"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(nodata_has_soa)
{
	ldns_pkt *r = ask("host.example.com.", LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ck_assert_int_eq(count_type(ldns_pkt_authority(r), LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(empty_non_terminal_is_nodata)
{
	const char *names[] = {"c.ent.example.com.", "b.c.ent.example.com.", "ent.example.com."};
	for (int i = 0; i < 3; i++) {
		ldns_pkt *r = ask(names[i], LDNS_RR_TYPE_A);
		ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
		ck_assert_int_eq(ldns_pkt_ancount(r), 0);
		ck_assert_int_eq(count_type(ldns_pkt_authority(r), LDNS_RR_TYPE_SOA), 1);
		ldns_pkt_free(r);
	}
}
END_TEST

START_TEST(wildcard_synthesis)
{
	ldns_pkt *r = ask("Foo.Wild.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_aa(r));
	/* RFC 4592 §3.3.1: the owner is the query name. */
	ck_assert(has_rr(ldns_pkt_answer(r), "foo.wild.example.com. 3600 IN A 192.0.2.99"));
	ldns_pkt_free(r);
	r = ask("a.b.wild.example.com.", LDNS_RR_TYPE_MX);
	ck_assert(has_rr(ldns_pkt_answer(r), "a.b.wild.example.com. 3600 IN MX 5 mx1.example.com."));
	ck_assert(has_rr(ldns_pkt_additional(r), "mx1.example.com. 3600 IN A 192.0.2.25"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(wildcard_nodata)
{
	ldns_pkt *r = ask("foo.wild.example.com.", LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ck_assert_int_eq(count_type(ldns_pkt_authority(r), LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(wildcard_not_where_name_exists)
{
	/* RFC 4592 §2.2.1: exists.wild exists, so no synthesis for it... */
	ldns_pkt *r = ask("exists.wild.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	/* ...and names below it have it as closest encloser: no wildcard. */
	r = ask("x.exists.wild.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r);
	/* The literal "*" label matches the wildcard node itself. */
	r = ask("*.wild.example.com.", LDNS_RR_TYPE_A);
	ck_assert(has_rr(ldns_pkt_answer(r), "*.wild.example.com. 3600 IN A 192.0.2.99"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(wildcard_cname)
{
	ldns_pkt *r = ask("x.cnwild.example.com.", LDNS_RR_TYPE_A);
	ck_assert(has_rr(ldns_pkt_answer(r), "x.cnwild.example.com. 3600 IN CNAME host.example.com."));
	ck_assert(has_rr(ldns_pkt_answer(r), "host.example.com. 3600 IN A 192.0.2.80"));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(cname_chain_in_zone)
{
	ldns_pkt *r = ask("www.example.com.", LDNS_RR_TYPE_A);
	ck_assert(ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 2);
	ck_assert(has_rr(ldns_pkt_answer(r), "www.example.com. 3600 IN CNAME host.example.com."));
	ck_assert(has_rr(ldns_pkt_answer(r), "host.example.com. 3600 IN A 192.0.2.80"));
	ldns_pkt_free(r);
	/* A CNAME query returns the CNAME itself. */
	r = ask("www.example.com.", LDNS_RR_TYPE_CNAME);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(cname_out_of_zone_and_loops)
{
	ldns_pkt *r = ask("ext.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ldns_pkt_free(r);
	r = ask("loop1.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_ge(ldns_pkt_ancount(r), 2); /* bounded, no hang */
	ldns_pkt_free(r);
	/* RFC 6604 §3: the rcode of the last link. */
	r = ask("dangling.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(dname_synthesizes_cname)
{
	ldns_pkt *r = ask("a.B.dn.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(has_rr(ldns_pkt_answer(r), "dn.example.com. 3600 IN DNAME example.net."));
	ck_assert(has_rr(ldns_pkt_answer(r), "a.b.dn.example.com. 3600 IN CNAME a.b.example.net."));
	ldns_pkt_free(r);
	/* At the owner itself the DNAME is ordinary data. */
	r = ask("dn.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
}
END_TEST

/* Found by the differential run against NSD and Knot: a question for the
 * CNAME ends with the synthesized one; other types follow it in the zone. */
START_TEST(dname_cname_question_ends_at_synthesized)
{
	ldns_pkt *r = ask("x.dnin.example.com.", LDNS_RR_TYPE_CNAME);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(r), 2);
	ck_assert(has_rr(ldns_pkt_answer(r), "x.dnin.example.com. 3600 IN CNAME x.host.example.com."));
	ck_assert_int_eq(ldns_pkt_nscount(r), 0);
	ldns_pkt_free(r);
	/* x.host.example.com does not exist: RFC 6604, the last name's rcode. */
	r = ask("x.dnin.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ldns_pkt_ancount(r), 2);
	ldns_pkt_free(r);
}
END_TEST

/* RFC 4035 §2.5: a signed zone's alias holds its own RRSIG and NSEC; a
 * question for them is answered there, any other type follows the CNAME. */
START_TEST(dnssec_types_beside_cname_are_the_alias_own)
{
	ldns_pkt *r = ask("signedcn.example.com.", LDNS_RR_TYPE_RRSIG);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert_int_eq(count_type(ldns_pkt_answer(r), LDNS_RR_TYPE_RRSIG), 1);
	ldns_pkt_free(r);
	r = ask("signedcn.example.com.", LDNS_RR_TYPE_NSEC);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert(has_rr(ldns_pkt_answer(r), "signedcn.example.com. 3600 IN NSEC sub.example.com. CNAME RRSIG NSEC"));
	ldns_pkt_free(r);
	r = ask("signedcn.example.com.", LDNS_RR_TYPE_A);
	ck_assert(has_rr(ldns_pkt_answer(r), "signedcn.example.com. 3600 IN CNAME host.example.com."));
	ck_assert(has_rr(ldns_pkt_answer(r), "host.example.com. 3600 IN A 192.0.2.80"));
	ldns_pkt_free(r);
	/* An unsigned alias has none: the CNAME is followed (as NSD does). */
	r = ask("www.example.com.", LDNS_RR_TYPE_RRSIG);
	ck_assert(has_rr(ldns_pkt_answer(r), "www.example.com. 3600 IN CNAME host.example.com."));
	ldns_pkt_free(r);
}
END_TEST

START_TEST(referral_with_glue)
{
	ldns_pkt *r = ask("www.sub.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(!ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ck_assert(has_rr(ldns_pkt_authority(r), "sub.example.com. 3600 IN NS ns.sub.example.com."));
	ck_assert(has_rr(ldns_pkt_additional(r), "ns.sub.example.com. 3600 IN A 192.0.2.60"));
	ldns_pkt_free(r);
	/* At the cut itself, and for glue names, still a referral. */
	r = ask("ns.sub.example.com.", LDNS_RR_TYPE_A);
	ck_assert(!ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	r = ask("sub.example.com.", LDNS_RR_TYPE_NS);
	ck_assert(!ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(ds_is_answered_by_the_parent)
{
	ldns_pkt *r = ask("sub.example.com.", LDNS_RR_TYPE_DS);
	ck_assert(ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert_int_eq(count_type(ldns_pkt_answer(r), LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(outside_every_zone_is_refused)
{
	ldns_pkt *r = ask("example.org.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ck_assert(!ldns_pkt_aa(r));
	ldns_pkt_free(r);
	r = ask("com.", LDNS_RR_TYPE_NS);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(qname_case_is_preserved)
{
	uint8_t raw[65535];
	size_t n;
	ldns_pkt *r = ask_full((struct q){.name = "ExAmPlE.CoM.", .type = LDNS_RR_TYPE_TXT}, raw, &n);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert(memcmp(raw + 12, "\007ExAmPlE\003CoM", 12) == 0);
	/* The answer's owner points back at the question. */
	ck_assert_int_eq(raw[12 + 13 + 4], 0xC0);
	ck_assert_int_eq(raw[12 + 13 + 5], 12);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(chaos_version_and_hidden_identity)
{
	ldns_pkt *r = ask_full((struct q){.name = "version.bind.", .type = LDNS_RR_TYPE_TXT,
					  .klass = LDNS_RR_CLASS_CH}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(has_rr(ldns_pkt_answer(r), "version.bind. 0 CH TXT \"mxdnsd test\""));
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "id.server.", .type = LDNS_RR_TYPE_TXT,
				.klass = LDNS_RR_CLASS_CH}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
}
END_TEST

/* RFC 1034 §5.3.1: QCLASS * finds the IN data, but not authoritatively. */
START_TEST(qclass_any_answers_without_authority)
{
	ldns_pkt *r = ask_full((struct q){.name = "mx1.example.com.", .type = LDNS_RR_TYPE_A,
					  .klass = LDNS_RR_CLASS_ANY}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert(!ldns_pkt_aa(r));
	ck_assert(has_rr(ldns_pkt_answer(r), "mx1.example.com. 3600 IN A 192.0.2.25"));
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "nothere.example.com.", .type = LDNS_RR_TYPE_A,
				.klass = LDNS_RR_CLASS_ANY}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ck_assert(!ldns_pkt_aa(r));
	ck_assert_int_eq(ldns_pkt_nscount(r), 0); /* no SOA to cache it by */
	ldns_pkt_free(r);
	/* Outside every zone it is still refused. */
	r = ask_full((struct q){.name = "example.org.", .type = LDNS_RR_TYPE_A,
				.klass = LDNS_RR_CLASS_ANY}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(any_is_minimal_over_udp)
{
	ldns_pkt *r = ask("example.com.", LDNS_RR_TYPE_ANY);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "example.com.", .type = LDNS_RR_TYPE_ANY, .proto = ANSWER_TCP},
		     NULL, NULL);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1 + 2 + 2 + 1 + 1); /* SOA NS*2 MX*2 TXT A */
	ldns_pkt_free(r);
}
END_TEST

START_TEST(edns_echo_and_badvers)
{
	ldns_pkt *r = ask_full((struct q){.name = "example.com.", .type = LDNS_RR_TYPE_MX,
					  .edns = 4096, .dnssec_ok = 1}, NULL, NULL);
	ck_assert(ldns_pkt_edns(r));
	ck_assert(ldns_pkt_edns_do(r));
	ck_assert_int_eq(ldns_pkt_edns_udp_size(r), 1232); /* ours, RFC 6891 §6.2.5 */
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "example.com.", .type = LDNS_RR_TYPE_MX, .edns = 1232,
				.edns_version = 1}, NULL, NULL);
	ck_assert(ldns_pkt_edns(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	/* BADVERS is 16: 1 in the OPT's extended rcode, 0 in the header. */
	ck_assert_int_eq(ldns_pkt_get_rcode(r), 0);
	ck_assert_int_eq(ldns_pkt_edns_extended_rcode(r), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(truncation_drops_whole_rrsets)
{
	ldns_pkt *r = ask("big.example.com.", LDNS_RR_TYPE_TXT);
	ck_assert(ldns_pkt_tc(r));
	/* 3 x ~200 bytes cannot fit in 512: no partial RRset. */
	ck_assert_int_eq(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT, .edns = 1232},
		     NULL, NULL);
	ck_assert(!ldns_pkt_tc(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 3);
	ldns_pkt_free(r);
	r = ask_full((struct q){.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT,
				.proto = ANSWER_TCP}, NULL, NULL);
	ck_assert(!ldns_pkt_tc(r));
	ck_assert_int_eq(ldns_pkt_ancount(r), 3);
	ldns_pkt_free(r);
}
END_TEST

static size_t raw_answer(const uint8_t *q, size_t len, uint8_t *out)
{
	struct answer_ctx ctx = {.opts = &opts};
	return answer_build(q, len, db, &ctx, out, 65535);
}

/* A batch answered in steps (parse all, prefetch all, then answer each:
 * the UDP path) gives the same bytes as each query answered alone. */
START_TEST(batch_in_steps_answers_as_one_by_one)
{
	static const struct q qs[] = {
		{.name = "example.com.", .type = LDNS_RR_TYPE_MX},
		{.name = "example.com.", .type = LDNS_RR_TYPE_SOA, .edns = 1232},
		{.name = "MX1.Example.COM.", .type = LDNS_RR_TYPE_AAAA},
		{.name = "www.example.com.", .type = LDNS_RR_TYPE_A},
		{.name = "nothere.example.com.", .type = LDNS_RR_TYPE_A, .edns = 4096},
		{.name = "x.wild.example.com.", .type = LDNS_RR_TYPE_MX},
		{.name = "a.sub.example.com.", .type = LDNS_RR_TYPE_A},
		{.name = "sub.example.com.", .type = LDNS_RR_TYPE_DS},
		{.name = "x.dn.example.com.", .type = LDNS_RR_TYPE_TXT},
		{.name = "big.example.com.", .type = LDNS_RR_TYPE_TXT},
		{.name = "ent.example.com.", .type = LDNS_RR_TYPE_A},
		{.name = "version.bind.", .type = LDNS_RR_TYPE_TXT, .klass = LDNS_RR_CLASS_CH},
		{.name = "example.org.", .type = LDNS_RR_TYPE_A},
		{.name = "example.com.", .type = LDNS_RR_TYPE_TXT, .edns = 1232, .edns_version = 1},
	};
	enum { N = sizeof(qs) / sizeof(qs[0]) };
	static struct answer_pre pre[N];
	static uint8_t wire[N][512], alone[N][4096], out[4096];
	size_t wlen[N], alone_len[N];
	for (int i = 0; i < N; i++) {
		uint8_t *w = NULL;
		ldns_pkt *query = ldns_pkt_query_new(ldns_dname_new_frm_str(qs[i].name), qs[i].type,
						     qs[i].klass ? qs[i].klass : LDNS_RR_CLASS_IN, 0);
		ldns_pkt_set_id(query, (uint16_t)i);
		if (qs[i].edns) {
			ldns_pkt_set_edns_udp_size(query, (uint16_t)qs[i].edns);
			ldns_pkt_set_edns_version(query, (uint8_t)qs[i].edns_version);
			ldns_pkt_set_edns_data(query, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
		}
		ck_assert_int_eq(ldns_pkt2wire(&w, query, &wlen[i]), LDNS_STATUS_OK);
		ck_assert_uint_le(wlen[i], sizeof(wire[i]));
		memcpy(wire[i], w, wlen[i]);
		free(w);
		ldns_pkt_free(query);
		struct answer_ctx ctx = {.opts = &opts};
		alone_len[i] = answer_build(wire[i], wlen[i], db, &ctx, alone[i], sizeof(alone[i]));
		ck_assert_uint_gt(alone_len[i], 0);
	}
	/* Every step over the batch, then every answer; then the daemon's
	 * pipeline, which interleaves them. */
	for (int i = 0; i < N; i++)
		answer_pre_parse(&pre[i], wire[i], wlen[i], db);
	for (int s = 0; s < ANSWER_PREFETCH_STEPS; s++)
		for (int i = 0; i < N; i++)
			answer_prefetch(&pre[i], NULL);
	for (int i = 0; i < N; i++) {
		struct answer_ctx ctx = {.opts = &opts};
		size_t n = answer_pre_build(&pre[i], db, &ctx, out, sizeof(out));
		ck_assert_msg(n == alone_len[i] && memcmp(out, alone[i], n) == 0, "%s differs in a batch",
			      qs[i].name);
	}
	for (int i = 0; i < N; i++)
		answer_pre_parse(&pre[i], wire[i], wlen[i], db);
	int built = 0, next = 0;
	for (int t = 0, i; (i = answer_pipeline(pre, N, t, NULL)) != ANSWER_PIPELINE_END; t++) {
		if (i < 0)
			continue;
		ck_assert_int_eq(i, next++); /* each once, in order */
		/* Its steps all done (a query outside our zones has none). */
		ck_assert_int_eq(pre[i].step, pre[i].z ? ANSWER_PREFETCH_STEPS : 0);
		struct answer_ctx ctx = {.opts = &opts};
		size_t n = answer_pre_build(&pre[i], db, &ctx, out, sizeof(out));
		ck_assert_msg(n == alone_len[i] && memcmp(out, alone[i], n) == 0,
			      "%s differs in the pipeline", qs[i].name);
		built++;
	}
	ck_assert_int_eq(built, N);
}
END_TEST

START_TEST(malformed_queries)
{
	uint8_t out[65535];
	/* Header: id 0x1234, RD, QD=1, then the question "example.com A IN". */
	static const uint8_t good[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				       7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
				       0, 1, 0, 1};
	uint8_t q[sizeof(good)];
	ck_assert_uint_gt(raw_answer(good, sizeof(good), out), 12);
	ck_assert_int_eq(out[3] & 0x0F, 0);

	/* Shorter than a header: dropped. */
	for (size_t n = 0; n < 12; n++)
		ck_assert_uint_eq(raw_answer(good, n, out), 0);
	/* QR set: a response, never answered (RFC 1035 §4.1.1). */
	memcpy(q, good, sizeof(q));
	q[2] |= 0x80;
	ck_assert_uint_eq(raw_answer(q, sizeof(q), out), 0);
	/* Truncated question: FORMERR. */
	ck_assert_uint_eq(raw_answer(good, sizeof(good) - 2, out), 12);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* QDCOUNT 2 and 0: FORMERR. */
	memcpy(q, good, sizeof(q));
	q[5] = 2;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	q[5] = 0;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* A compression pointer in the question: FORMERR. */
	memcpy(q, good, sizeof(q));
	q[12] = 0xC0;
	q[13] = 12;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* Label length beyond the packet. */
	memcpy(q, good, sizeof(q));
	q[12] = 63;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* Unknown opcode (UPDATE = 5): NOTIMP, id echoed. */
	memcpy(q, good, sizeof(q));
	q[2] = 5 << 3;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_NOTIMP);
	ck_assert_int_eq(out[0], 0x12);
	ck_assert_int_eq((out[2] >> 3) & 0x0F, 5);
	/* An answer record in a query: FORMERR. */
	memcpy(q, good, sizeof(q));
	q[7] = 1;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* Claimed additional records that are not there. */
	memcpy(q, good, sizeof(q));
	q[10] = 0xFF;
	q[11] = 0xFF;
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
}
END_TEST

START_TEST(two_opt_records_are_formerr)
{
	uint8_t out[65535];
	static const uint8_t q[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2,
				    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
				    0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0,
				    0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	raw_answer(q, sizeof(q), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
	/* An OPT owned by a name other than the root: FORMERR too. */
	static const uint8_t q2[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1,
				     7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
				     1, 'x', 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
	raw_answer(q2, sizeof(q2), out);
	ck_assert_int_eq(out[3] & 0x0F, RCODE_FORMERR);
}
END_TEST

START_TEST(bad_zones_are_rejected_with_a_line)
{
	char err[512];
	struct zone *z = zone_from_text("example.com",
					"@ 3600 IN SOA a. b. 1 2 3 4 5\n@ NS ns1\nx CNAME y\nx A 192.0.2.1\n",
					"bad.zone", err, sizeof(err));
	ck_assert_ptr_null(z);
	ck_assert_msg(strstr(err, "bad.zone:") && strstr(err, "CNAME"), "%s", err);
	z = zone_from_text("example.com", "@ 3600 IN NS ns1\n", "nosoa.zone", err, sizeof(err));
	ck_assert_ptr_null(z);
	ck_assert_msg(strstr(err, "SOA") != NULL, "%s", err);
	z = zone_from_text("example.com", "@ 3600 IN SOA a. b. 1 2 3 4 5\n", "nons.zone", err,
			   sizeof(err));
	ck_assert_ptr_null(z);
	ck_assert_msg(strstr(err, "NS") != NULL, "%s", err);
	z = zone_from_text("example.com", "@ 3600 IN SOA a. b. 1 2 3 4 5\n@ NS ns1\nx IN A 300.1.1.1\n",
			   "syntax.zone", err, sizeof(err));
	ck_assert_ptr_null(z);
	ck_assert_msg(strstr(err, "syntax.zone:3:") != NULL, "%s", err);
	/* Out-of-zone data is ignored, not fatal. */
	z = zone_from_text("example.com", "@ 3600 IN SOA a. b. 1 2 3 4 5\n@ NS ns1\nexample.org. A 192.0.2.1\n",
			   "ooz.zone", err, sizeof(err));
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(z->n_records, 2);
	zone_unref(z);
}
END_TEST

START_TEST(rfc3597_unknown_types)
{
	struct zonedb *saved = serve_zone("@ 3600 IN SOA a. b. 1 2 3 4 5\n@ NS ns1\n"
					  "x TYPE65400 \\# 4 0A000001\n",
					  "unknown.zone");
	ldns_pkt *r = ask("x.example.com.", 65400);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	ck_assert_int_eq(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 4);
	ldns_pkt_free(r);
	serve_back(saved);
}
END_TEST

START_TEST(ds_goes_to_the_parent_when_both_sides_are_served)
{
	char err[512];
	struct zone *zs[2];
	zs[0] = zone_from_text("example.com", zone_text, "parent.zone", err, sizeof(err));
	zs[1] = zone_from_text("sub.example.com",
			       "@ 60 IN SOA ns.sub.example.com. h.example.com. 7 1 1 1 60\n@ NS ns\nns A 192.0.2.60\n",
			       "child.zone", err, sizeof(err));
	ck_assert(zs[0] && zs[1]);
	struct zonedb *d = zonedb_from_zones(zs, 2), *saved = db;
	zone_unref(zs[0]);
	zone_unref(zs[1]);
	db = d;
	ldns_pkt *r = ask("sub.example.com.", LDNS_RR_TYPE_DS);
	ck_assert(ldns_pkt_aa(r));
	ck_assert_int_eq(count_type(ldns_pkt_answer(r), LDNS_RR_TYPE_DS), 1);
	ldns_pkt_free(r);
	/* Everything else at the child's apex is the child's. */
	r = ask("sub.example.com.", LDNS_RR_TYPE_SOA);
	ck_assert(ldns_pkt_aa(r));
	ck_assert(has_rr(ldns_pkt_answer(r), "sub.example.com. 60 IN SOA ns.sub.example.com. h.example.com. 7 1 1 1 60"));
	ldns_pkt_free(r);
	db = saved;
	zonedb_free(d);
}
END_TEST

START_TEST(any_at_a_cname_is_the_cname)
{
	/* RFC 1034 §4.3.2 step 3a: ANY matches the CNAME; no chain. */
	ldns_pkt *r = ask_full((struct q){.name = "www.example.com.", .type = LDNS_RR_TYPE_ANY,
					  .proto = ANSWER_TCP}, NULL, NULL);
	ck_assert_int_eq(ldns_pkt_ancount(r), 1);
	ck_assert_int_eq(count_type(ldns_pkt_answer(r), LDNS_RR_TYPE_CNAME), 1);
	ldns_pkt_free(r);
}
END_TEST

START_TEST(additional_beyond_the_copied_bytes)
{
	/* The zone copies a few KB of the targets' A and AAAA beside an
	 * RRset (zone.h); past that they are read in place. Both must give
	 * every address: here one target's 300 A RRs (4,800 bytes) and a
	 * small one, over TCP where they fit. */
	static char text[32 * 1024];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "@ 3600 IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n"
				    "small A 192.0.2.25\nsmall AAAA 2001:db8::25\n"
				    "many MX 10 big\nmany MX 20 small\nfew MX 10 small\nfew MX 20 small.example.com.\n");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "big A 10.0.%d.%d\n", i / 256, i % 256);
	struct zonedb *saved = serve_zone(text, "big.zone");
	ldns_pkt *r = ask_full((struct q){.name = "many.example.com.", .type = LDNS_RR_TYPE_MX,
					  .proto = ANSWER_TCP}, NULL, NULL);
	const ldns_rr_list *ar = ldns_pkt_additional(r);
	ck_assert_int_eq(count_type(ar, LDNS_RR_TYPE_A), 301);
	ck_assert_int_eq(count_type(ar, LDNS_RR_TYPE_AAAA), 1);
	ck_assert(has_rr(ar, "big.example.com. 3600 IN A 10.0.1.43"));
	ck_assert(has_rr(ar, "small.example.com. 3600 IN AAAA 2001:db8::25"));
	ldns_pkt_free(r);
	/* Copied: one target named twice gives its addresses once. */
	r = ask_full((struct q){.name = "few.example.com.", .type = LDNS_RR_TYPE_MX, .edns = 1232},
		     NULL, NULL);
	ar = ldns_pkt_additional(r);
	ck_assert_int_eq(ldns_pkt_ancount(r), 2);
	ck_assert_int_eq(count_type(ar, LDNS_RR_TYPE_A), 1);
	ck_assert(has_rr(ar, "small.example.com. 3600 IN A 192.0.2.25"));
	ck_assert(has_rr(ar, "small.example.com. 3600 IN AAAA 2001:db8::25"));
	ldns_pkt_free(r);
	serve_back(saved);
}
END_TEST

START_TEST(tcp_answer_past_16k)
{
	/* Past 16 KiB a compression pointer cannot reach (RFC 1035 §4.1.4:
	 * 14-bit offsets), so owners and rdata names there are written some
	 * other way: this RRset of TXT puts the SRV RRset and its additional
	 * addresses beyond 16 KiB. */
	static char text[128 * 1024];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "@ 3600 IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n"
				    "mx1 A 192.0.2.25\nmx1 AAAA 2001:db8::25\n"
				    "huge MX 10 mx1\nhuge SRV 0 1 25 mx1\nhuge SRV 0 2 587 mx1\n");
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "huge TXT \"%03d %0200d\"\n", i, 0);
	for (int i = 0; i < 700; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "_many._tcp 60 SRV 0 %d 25 h%03d\n", i, i);
	struct zonedb *saved = serve_zone(text, "huge.zone");
	uint8_t raw[65535];
	size_t rawlen = 0;
	ldns_pkt *r = ask_full((struct q){.name = "huge.example.com.", .type = LDNS_RR_TYPE_ANY,
					  .proto = ANSWER_TCP}, raw, &rawlen);
	ck_assert_uint_gt(rawlen, 16384 + 1000);
	ck_assert(!ldns_pkt_tc(r));
	const ldns_rr_list *an = ldns_pkt_answer(r);
	ck_assert_int_eq(count_type(an, LDNS_RR_TYPE_TXT), 150);
	ck_assert_int_eq(count_type(an, LDNS_RR_TYPE_MX), 1);
	ck_assert_int_eq(count_type(an, LDNS_RR_TYPE_SRV), 2);
	ldns_rdf *owner = ldns_dname_new_frm_str("huge.example.com.");
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
		ck_assert(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(an, i)), owner) == 0);
	ldns_rdf_deep_free(owner);
	ck_assert(has_rr(an, "huge.example.com. 3600 IN SRV 0 2 587 mx1.example.com."));
	ck_assert(has_rr(an, "huge.example.com. 3600 IN SRV 0 1 25 mx1.example.com."));
	ldns_pkt_free(r);

	/* 700 SRV RRs: the later ones lie past 16 KiB, their owners and the
	 * targets' apex suffix written in full. (Additional addresses are
	 * optional, RFC 2181 §9, and left out for an RRset that crosses
	 * 16 KiB.) */
	r = ask_full((struct q){.name = "_many._tcp.example.com.", .type = LDNS_RR_TYPE_SRV,
				.proto = ANSWER_TCP}, raw, &rawlen);
	ck_assert_uint_gt(rawlen, 16384 + 1000);
	ck_assert(!ldns_pkt_tc(r));
	ck_assert_int_eq(count_type(ldns_pkt_answer(r), LDNS_RR_TYPE_SRV), 700);
	ck_assert(has_rr(ldns_pkt_answer(r), "_many._tcp.example.com. 60 IN SRV 0 699 25 h699.example.com."));
	ck_assert(has_rr(ldns_pkt_answer(r), "_many._tcp.example.com. 60 IN SRV 0 0 25 h000.example.com."));
	ldns_pkt_free(r);
	serve_back(saved);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("answer");
	TCase *tc = tcase_create("rfc");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, apex_soa_is_authoritative);
	tcase_add_test(tc, mx_with_additional_addresses);
	tcase_add_test(tc, additional_beyond_the_copied_bytes);
	tcase_add_test(tc, srv_with_additional);
	tcase_add_test(tc, nxdomain_has_soa_with_negative_ttl);
	tcase_add_test(tc, nodata_has_soa);
	tcase_add_test(tc, empty_non_terminal_is_nodata);
	tcase_add_test(tc, wildcard_synthesis);
	tcase_add_test(tc, wildcard_nodata);
	tcase_add_test(tc, wildcard_not_where_name_exists);
	tcase_add_test(tc, wildcard_cname);
	tcase_add_test(tc, cname_chain_in_zone);
	tcase_add_test(tc, cname_out_of_zone_and_loops);
	tcase_add_test(tc, dname_synthesizes_cname);
	tcase_add_test(tc, dname_cname_question_ends_at_synthesized);
	tcase_add_test(tc, dnssec_types_beside_cname_are_the_alias_own);
	tcase_add_test(tc, referral_with_glue);
	tcase_add_test(tc, ds_is_answered_by_the_parent);
	tcase_add_test(tc, outside_every_zone_is_refused);
	tcase_add_test(tc, qclass_any_answers_without_authority);
	tcase_add_test(tc, qname_case_is_preserved);
	tcase_add_test(tc, chaos_version_and_hidden_identity);
	tcase_add_test(tc, any_is_minimal_over_udp);
	tcase_add_test(tc, edns_echo_and_badvers);
	tcase_add_test(tc, truncation_drops_whole_rrsets);
	tcase_add_test(tc, malformed_queries);
	tcase_add_test(tc, batch_in_steps_answers_as_one_by_one);
	tcase_add_test(tc, tcp_answer_past_16k);
	tcase_add_test(tc, two_opt_records_are_formerr);
	tcase_add_test(tc, bad_zones_are_rejected_with_a_line);
	tcase_add_test(tc, rfc3597_unknown_types);
	tcase_add_test(tc, ds_goes_to_the_parent_when_both_sides_are_served);
	tcase_add_test(tc, any_at_a_cname_is_the_cname);
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

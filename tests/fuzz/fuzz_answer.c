/* fuzz_answer: one packet in, one answer out (server/answer.h), against a
 * fixed set of zones compiled once: wildcards, a CNAME chain and loop, a
 * DNAME, a delegation with glue and DS, a TXT RRset too big for UDP, a
 * child zone held by the same server and a reverse zone.
 *
 * Input: byte 0 picks the transport and the limits, the rest is the DNS
 * message as it came off the wire (for TCP without the length prefix).
 *   bit 0     0 = UDP, 1 = TCP
 *   bits 1-2  output capacity: 65535, 512, 1232, 4096
 *   bit 3     server EDNS limit 512 instead of 1232
 *   bit 4     CHAOS version/identity hidden
 *
 * Beyond "no crash, no leak" it checks what answer.h promises: a response
 * fits the capacity and, over UDP, the size the client may receive; it
 * echoes the ID with QR set; and ldns, an independent parser, reads it. */
#include "fuzz.h"

#include "answer.h"
#include "zone.h"
#include "zonedb.h"

#include <ldns/ldns.h>

static const char *fuzz_answer_zone_text =
	"$TTL 3600\n"
	"@ IN SOA ns1.example.com. hostmaster.example.com. 2026112801 7200 3600 1209600 300\n"
	"@ NS ns1\n"
	"@ NS ns2.example.net.\n"
	"@ MX 10 mx1\n"
	"@ MX 20 mx2.example.com.\n"
	"@ TXT \"v=spf1 mx -all\"\n"
	"@ A 192.0.2.1\n"
	"@ AAAA 2001:db8::1\n"
	"@ CAA 0 issue \"letsencrypt.org\"\n"
	"ns1 A 192.0.2.53\n"
	"mx1 A 192.0.2.25\n"
	"mx1 AAAA 2001:db8::25\n"
	"mx2 A 192.0.2.26\n"
	"_25._tcp.mx1 TLSA 3 1 1 "
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"www CNAME host\n"
	"host A 192.0.2.80\n"
	"c1 CNAME c2\n"
	"c2 CNAME c3\n"
	"c3 CNAME www\n"
	"ext CNAME www.example.org.\n"
	"loop1 CNAME loop2\n"
	"loop2 CNAME loop1\n"
	"dangling CNAME nothere\n"
	"a.b.c.ent A 192.0.2.7\n"
	"*.wild A 192.0.2.99\n"
	"*.wild MX 5 mx1\n"
	"exists.wild TXT \"here\"\n"
	"*.cnwild CNAME host\n"
	"*.dnwild DNAME example.net.\n"
	"dn DNAME example.net.\n"
	"dnin DNAME sub2.example.com.\n"
	"sub NS ns.sub\n"
	"sub NS ns.example.net.\n"
	"sub DS 12345 13 2 "
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"ns.sub A 192.0.2.60\n"
	"ns.sub AAAA 2001:db8::60\n"
	"deep.below.sub A 192.0.2.61\n"
	"sub2 NS ns1\n"
	"_submission._tcp SRV 0 1 587 mx1\n"
	"_imaps._tcp SRV 0 1 993 mx2\n"
	"_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\"\n"
	"s1._domainkey TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"big TXT \""
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
	"big TXT \""
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
	"big TXT \""
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	"cccccccccccccccccccccccccccccccccccccc\" \"dddddddddddddddddddddddddddddddddddddddddddddd\"\n"
	"big TXT \""
	"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"\n"
	"many A 192.0.2.101\nmany A 192.0.2.102\nmany A 192.0.2.103\nmany A 192.0.2.104\n"
	"many A 192.0.2.105\nmany A 192.0.2.106\nmany A 192.0.2.107\nmany A 192.0.2.108\n"
	"unk TYPE65400 \\# 4 deadbeef\n"
	"sv HTTPS 1 . alpn=h2,h3\n";

static const char *fuzz_answer_sub2_text =
	"$TTL 300\n"
	"@ SOA ns1.example.com. hostmaster.example.com. 7 3600 600 86400 60\n"
	"@ NS ns1.example.com.\n"
	"@ MX 0 .\n"
	"@ TXT \"v=spf1 -all\"\n"
	"x A 192.0.2.200\n";

static const char *fuzz_answer_rev_text =
	"$TTL 3600\n"
	"@ SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300\n"
	"@ NS ns1.example.com.\n"
	"25 PTR mx1.example.com.\n"
	"26 PTR mx2.example.com.\n";

static struct zonedb *fuzz_answer_db;

static void fuzz_answer_setup(void)
{
	struct {
		const char *origin, *text;
	} src[] = {
		{"example.com", fuzz_answer_zone_text},
		{"sub2.example.com", fuzz_answer_sub2_text},
		{"2.0.192.in-addr.arpa", fuzz_answer_rev_text},
	};
	struct zone *z[3];
	char err[512];

	fuzz_quiet();
	for (size_t i = 0; i < 3; i++) {
		z[i] = zone_from_text(src[i].origin, src[i].text, "fuzz", err, sizeof(err));
		if (!z[i]) {
			fprintf(stderr, "fuzz_answer: zone %s: %s\n", src[i].origin, err);
			abort();
		}
	}
	fuzz_answer_db = zonedb_from_zones(z, 3);
	for (size_t i = 0; i < 3; i++)
		zone_unref(z[i]);
	FUZZ_CHECK(fuzz_answer_db != NULL);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = {65535, 512, 1232, 4096};
	if (!fuzz_answer_db)
		fuzz_answer_setup();
	if (size < 1)
		return 0;

	uint8_t mode = data[0];
	struct answer_opts opts = {
		.udp_size = (mode & 8) ? 512 : 1232,
		.version = (mode & 16) ? NULL : "mxdnsd fuzz",
		.identity = (mode & 16) ? NULL : "fuzz.example",
	};
	struct answer_ctx ctx = {
		.opts = &opts,
		.proto = (mode & 1) ? ANSWER_TCP : ANSWER_UDP,
		.now = 1767225600,
	};
	size_t cap = caps[(mode >> 1) & 3];
	/* Exactly cap bytes on the heap, so ASan sees any write past it. */
	uint8_t *out = malloc(cap);
	/* The packet alone, also exactly sized, for reads past its end. */
	size_t qlen = size - 1;
	uint8_t *q = malloc(qlen ? qlen : 1);
	FUZZ_CHECK(out && q);
	memcpy(q, data + 1, qlen);

	size_t n = answer_build(q, qlen, fuzz_answer_db, &ctx, out, cap);
	if (n > 0) {
		FUZZ_CHECK(n >= 12 && n <= cap);
		if (ctx.proto == ANSWER_UDP)
			FUZZ_CHECK(n <= opts.udp_size || n <= 512);
		FUZZ_CHECK(qlen >= 2 && out[0] == q[0] && out[1] == q[1]);
		FUZZ_CHECK(out[2] & 0x80); /* QR */
		ldns_pkt *resp = NULL;
		ldns_status s = ldns_wire2pkt(&resp, out, n);
		if (s != LDNS_STATUS_OK) {
			fprintf(stderr, "fuzz_answer: ldns cannot read our %zu-byte response: %s\n",
				n, ldns_get_errorstr_by_id(s));
			abort();
		}
		ldns_pkt_free(resp);
	}
	free(q);
	free(out);
	return 0;
}

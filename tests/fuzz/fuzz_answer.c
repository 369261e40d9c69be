/* fuzz_answer: one packet in, one answer out (server/answer.h), against a
 * fixed set of zones compiled once: wildcards, a CNAME chain and loop, a
 * DNAME, a delegation with glue and DS, a TXT RRset too big for UDP, a
 * child zone held by the same server, a reverse zone, and a DNSBL zone
 * bl.example.org whose LMDB listing (IPv4, IPv6, domains, exclusions,
 * reasons with "$") is imported once into a temporary directory, removed
 * at exit.
 *
 * Input: byte 0 picks the transport and the limits, the rest is the DNS
 * message as it came off the wire (for TCP without the length prefix).
 *   bit 0     0 = UDP, 1 = TCP
 *   bits 1-2  output capacity: 65535, 512, 1232, 4096
 *   bit 3     server EDNS limit 512 instead of 1232
 *   bit 4     CHAOS version/identity hidden
 *   bit 5     client 192.0.2.66 (refused by the DNSBL's ACL) instead of
 *             198.51.100.1
 *
 * Beyond "no crash, no leak" it checks what answer.h promises: a response
 * fits the capacity and, over UDP, the size the client may receive; it
 * echoes the ID with QR set; and ldns, an independent parser, reads it. */
#include "fuzz.h"

#include "answer.h"
#include "blimport.h"
#include "blstore.h"
#include "config.h"
#include "dnsbl.h"
#include "zone.h"
#include "zonedb.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <unistd.h>

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

static const char *fuzz_answer_bl_data =
	":127.0.0.2:Listed $, see http://bl.example.org/lookup?ip=$ ($$5 to delist)\n"
	"192.0.2.0/24\n"
	"!192.0.2.99\n"
	"198.51.100.7 :127.0.0.4:spam source\n"
	"10.0.0.0/8\n";

/* The plain format for what ip4set cannot hold. */
static const char *fuzz_answer_bl_plain =
	"2001:db8::/32 six $\n"
	"!2001:db8::1\n"
	"spam.example\n"
	"*.evil.example wild $\n"
	"!good.evil.example\n";

static struct zonedb *fuzz_answer_db;
static struct dnsbl_readers *fuzz_answer_bl_readers;
static char fuzz_answer_dir[] = "/tmp/fuzz_answer.XXXXXX";
static char fuzz_answer_db_path[64];

static void fuzz_answer_rmdb(void)
{
	char lock[80];
	snprintf(lock, sizeof(lock), "%s-lock", fuzz_answer_db_path);
	unlink(fuzz_answer_db_path);
	unlink(lock);
	rmdir(fuzz_answer_dir);
}

/* The listing database, written once with the importer the tool uses. */
static struct zone *fuzz_answer_dnsbl(void)
{
	static char *lists[1] = {"bl.example.org"};
	static char *ns[1] = {"ns1.example.com."};
	static struct config_acl acl[1];
	static struct config_dnsbl cfg;
	struct blstore *s = NULL;
	struct blimport im;
	struct blimport_opts o = {.list = "bl.example.org", .now = 1000, .n_codes = 1,
				  .codes = {{127, 0, 0, 3}}};
	struct blapply_opts ao = {BLAPPLY_PUT, 0, 1, {1e40, 1e40}, 0};
	struct blapply_result r;
	char err[512];

	FUZZ_CHECK(mkdtemp(fuzz_answer_dir) != NULL);
	snprintf(fuzz_answer_db_path, sizeof(fuzz_answer_db_path), "%s/bl.mdb", fuzz_answer_dir);
	FUZZ_CHECK(blstore_open(fuzz_answer_db_path, BLSTORE_CREATE, &s, err, sizeof(err)) == 0);
	blimport_init(&im);
	for (int i = 0; i < 2; i++) {
		const char *data = i ? fuzz_answer_bl_plain : fuzz_answer_bl_data;
		o.format = i ? "plain" : "ip4set";
		FILE *f = fmemopen((void *)data, strlen(data), "r");
		FUZZ_CHECK(f != NULL);
		if (blimport_stream(&im, f, "fuzz.bl", &o, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_answer: DNSBL data: %s\n", err);
			abort();
		}
		fclose(f);
	}
	blimport_sort(&im);
	FUZZ_CHECK(blimport_apply(s, &im, &ao, &r, err, sizeof(err)) == 0);
	blimport_cleanup(&im);
	blstore_close(s);

	FUZZ_CHECK(config_parse_net("192.0.2.64/26", &acl[0].net) == 0);
	acl[0].action = ACL_REFUSE;
	cfg.name = "bl.example.org";
	cfg.db = fuzz_answer_db_path;
	cfg.lists = lists;
	cfg.n_lists = 1;
	cfg.ttl = 2100;
	cfg.neg_ttl = 300;
	cfg.soa_mname = "ns1.example.com.";
	cfg.soa_rname = "hostmaster.example.com.";
	cfg.ns = ns;
	cfg.n_ns = 1;
	cfg.acl = acl;
	cfg.n_acl = 1;
	struct zone *z = dnsbl_zone_load(&cfg, err, sizeof(err));
	if (!z) {
		fprintf(stderr, "fuzz_answer: DNSBL zone: %s\n", err);
		abort();
	}
	/* The environment is open: the files can go now (libFuzzer may leave
	 * without running atexit handlers). */
	fuzz_answer_rmdb();
	fuzz_answer_bl_readers = dnsbl_readers_new();
	FUZZ_CHECK(fuzz_answer_bl_readers != NULL);
	return z;
}

static void fuzz_answer_setup(void)
{
	struct {
		const char *origin, *text;
	} src[] = {
		{"example.com", fuzz_answer_zone_text},
		{"sub2.example.com", fuzz_answer_sub2_text},
		{"2.0.192.in-addr.arpa", fuzz_answer_rev_text},
	};
	struct zone *z[4];
	char err[512];

	fuzz_quiet();
	for (size_t i = 0; i < 3; i++) {
		z[i] = zone_from_text(src[i].origin, src[i].text, "fuzz", err, sizeof(err));
		if (!z[i]) {
			fprintf(stderr, "fuzz_answer: zone %s: %s\n", src[i].origin, err);
			abort();
		}
	}
	z[3] = fuzz_answer_dnsbl();
	fuzz_answer_db = zonedb_from_zones(z, 4);
	for (size_t i = 0; i < 4; i++)
		zone_unref(z[i]);
	FUZZ_CHECK(fuzz_answer_db != NULL);

	/* The fixed data must answer, or the fuzzer explores error paths only:
	 * a listed address in the DNSBL and an A record in example.com. */
	static const uint8_t q1[] = "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				    "\x01" "1\x01" "2\x01" "0\x03" "192\x02" "bl\x07" "example\x03" "org\x00"
				    "\x00\x01\x00\x01";
	static const uint8_t q2[] = "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				    "\x03" "www\x07" "example\x03" "com\x00\x00\x01\x00\x01";
	struct answer_opts opts = {.udp_size = 1232};
	struct sockaddr_in client = {.sin_family = AF_INET};
	inet_pton(AF_INET, "198.51.100.1", &client.sin_addr);
	struct answer_ctx ctx = {.opts = &opts, .client = (const struct sockaddr *)&client,
				 .now = 1767225600, .bl = fuzz_answer_bl_readers};
	uint8_t out[512];
	size_t n = answer_build(q1, sizeof(q1) - 1, fuzz_answer_db, &ctx, out, sizeof(out));
	FUZZ_CHECK(n > 12 && (out[3] & 15) == 0 && out[7] == 1); /* NOERROR, one answer */
	FUZZ_CHECK(ctx.dnsbl_hit);
	n = answer_build(q2, sizeof(q2) - 1, fuzz_answer_db, &ctx, out, sizeof(out));
	FUZZ_CHECK(n > 12 && (out[3] & 15) == 0 && out[7] == 2); /* CNAME + A */
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
	struct sockaddr_in client = {.sin_family = AF_INET, .sin_port = htons(5353)};
	inet_pton(AF_INET, (mode & 32) ? "192.0.2.66" : "198.51.100.1", &client.sin_addr);
	struct answer_ctx ctx = {
		.opts = &opts,
		.proto = (mode & 1) ? ANSWER_TCP : ANSWER_UDP,
		.client = (const struct sockaddr *)&client,
		.now = 1767225600,
		.bl = fuzz_answer_bl_readers,
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

	/* The UDP path's steps (answer.h) must give the same bytes. */
	static struct answer_pre pre;
	uint8_t *out2 = malloc(cap);
	FUZZ_CHECK(out2 != NULL);
	answer_pre_parse(&pre, q, qlen, fuzz_answer_db);
	for (int step = 0; step < ANSWER_PREFETCH_STEPS; step++)
		answer_prefetch(&pre, fuzz_answer_bl_readers);
	size_t n2 = answer_pre_build(&pre, fuzz_answer_db, &ctx, out2, cap);
	FUZZ_CHECK(n2 == n && memcmp(out, out2, n) == 0);
	free(out2);

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

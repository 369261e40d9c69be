/* Unit tests of the SPF engine (tools/spf.c): record parsing, macro
 * expansion (RFC 7208 §7.4's examples, bounds, malformed macros),
 * check_host() limits against a table resolver, lint and build. The
 * openspf suites run in check_spf_suite.c. */
#include "errcode.h"
#include "spf.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- a table resolver ---------------------------------------------------- */

struct rec {
	const char *name, *type, *data; /* type "TEMP": any query fails */
};

static int table_query(const struct rec *t, const char *type, const char *name,
                       struct spf_answer *out)
{
	int exists = 0;
	for (; t->name; t++) {
		if (strcasecmp(t->name, name) != 0)
			continue;
		exists = 1;
		if (strcmp(t->type, "TEMP") == 0)
			return SPF_DNS_TEMPFAIL;
		if (strcmp(t->type, type) != 0)
			continue;
		if (strcmp(type, "A") == 0 || strcmp(type, "AAAA") == 0) {
			uint8_t a[16];
			int af = type[1] ? AF_INET6 : AF_INET;
			ck_assert_int_eq(inet_pton(af, t->data, a), 1);
			spf_answer_add_addr(out, af, a);
		} else if (strcmp(type, "MX") == 0 || strcmp(type, "PTR") == 0) {
			spf_answer_add_name(out, 10, t->data);
		} else {
			spf_answer_add_text(out, t->data, strlen(t->data));
		}
	}
	return exists ? SPF_DNS_OK : SPF_DNS_NXDOMAIN;
}

static int t_txt(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "TXT", n, o);
}
static int t_a(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "A", n, o);
}
static int t_aaaa(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "AAAA", n, o);
}
static int t_mx(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "MX", n, o);
}
static int t_ptr(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "PTR", n, o);
}
static int t_spf(void *c, const char *n, struct spf_answer *o)
{
	return table_query(c, "SPF", n, o);
}

static struct spf_resolver table(const struct rec *t)
{
	struct spf_resolver r = {(void *)t, t_txt, t_a, t_aaaa, t_mx, t_ptr, t_spf};
	return r;
}

static enum spf_result eval(const struct rec *t, const char *ip, const char *sender,
                            struct spf_outcome *o)
{
	struct spf_resolver r = table(t);
	struct spf_request req = {
	    .ip = ip, .sender = sender, .helo = "mx.example.org", .default_exp = "DEFAULT"};
	ck_assert_int_eq(spf_check_host(&r, &req, o), 0);
	return o->result;
}

/* ---- parser ---------------------------------------------------------------- */

static struct spf_record *parse_ok(const char *text)
{
	struct spf_record *r = NULL;
	char err[256] = "";
	int rc = spf_record_parse(text, strlen(text), &r, err, sizeof(err));
	ck_assert_msg(rc == 0, "'%s' should parse: %s", text, err);
	return r;
}

static void parse_bad(const char *text, const char *needle)
{
	struct spf_record *r = NULL;
	char err[256] = "";
	int rc = spf_record_parse(text, strlen(text), &r, err, sizeof(err));
	ck_assert_msg(rc == MX_ESYNTAX, "'%s' should be rejected (rc %d)", text, rc);
	ck_assert_ptr_null(r);
	if (needle)
		ck_assert_msg(strstr(err, needle), "error for '%s' is '%s', want '%s' in it", text,
		              err, needle);
}

START_TEST(test_parse_terms)
{
	struct spf_record *r =
	    parse_ok("v=spf1 +a mx:mail.example.com/24//64 -ip4:192.0.2.0/24 "
	             "~ip6:2001:db8::/32 ?include:_spf.example.net "
	             "exists:%{ir}.bl.example.org ptr all redirect=x.example.com "
	             "exp=exp.example.com foo.bar=baz");
	ck_assert_uint_eq(r->n, 11);
	ck_assert_int_eq(r->terms[0].mech, SPF_M_A);
	ck_assert_int_eq(r->terms[0].qual, '+');
	ck_assert_ptr_null(r->terms[0].domain);
	ck_assert_int_eq(r->terms[0].cidr4, 32);
	ck_assert_int_eq(r->terms[1].mech, SPF_M_MX);
	ck_assert_str_eq(r->terms[1].domain, "mail.example.com");
	ck_assert_int_eq(r->terms[1].cidr4, 24);
	ck_assert_int_eq(r->terms[1].cidr6, 64);
	ck_assert_int_eq(r->terms[2].mech, SPF_M_IP4);
	ck_assert_int_eq(r->terms[2].qual, '-');
	ck_assert_int_eq(r->terms[2].cidr4, 24);
	ck_assert_int_eq(r->terms[3].mech, SPF_M_IP6);
	ck_assert_int_eq(r->terms[3].qual, '~');
	ck_assert_int_eq(r->terms[3].cidr6, 32);
	ck_assert_int_eq(r->terms[4].mech, SPF_M_INCLUDE);
	ck_assert_int_eq(r->terms[4].qual, '?');
	ck_assert_int_eq(r->terms[5].mech, SPF_M_EXISTS);
	ck_assert_str_eq(r->terms[5].domain, "%{ir}.bl.example.org");
	ck_assert_int_eq(r->terms[6].mech, SPF_M_PTR);
	ck_assert_int_eq(r->terms[7].mech, SPF_M_ALL);
	ck_assert_ptr_eq(r->redirect, &r->terms[8]);
	ck_assert_str_eq(r->redirect->domain, "x.example.com");
	ck_assert_ptr_eq(r->exp, &r->terms[9]);
	ck_assert_int_eq(r->terms[10].kind, SPF_T_MODIFIER);
	ck_assert_str_eq(r->terms[10].name, "foo.bar");
	ck_assert_int_eq(r->terms[10].pos, strlen("v=spf1 +a mx:mail.example.com/24//64 "
	                                          "-ip4:192.0.2.0/24 ~ip6:2001:db8::/32 "
	                                          "?include:_spf.example.net "
	                                          "exists:%{ir}.bl.example.org ptr all "
	                                          "redirect=x.example.com exp=exp.example.com "));
	/* include, mx, exists, ptr, a, redirect */
	ck_assert_int_eq(spf_record_lookup_terms(r), 6);
	spf_record_free(r);

	/* case-insensitive names and version, trailing and double spaces */
	r = parse_ok("V=SPF1  A/24  MX//48 IP4:192.0.2.1 ALL ");
	ck_assert_uint_eq(r->n, 4);
	ck_assert_int_eq(r->terms[0].cidr4, 24);
	ck_assert_int_eq(r->terms[1].cidr6, 48);
	spf_record_free(r);
	r = parse_ok("v=spf1");
	ck_assert_uint_eq(r->n, 0);
	spf_record_free(r);
}
END_TEST

START_TEST(test_parse_errors)
{
	parse_bad("v=spf10 -all", "v=spf1");
	parse_bad("spf2.0/pra -all", "v=spf1");
	parse_bad("v=spf1 -all foo", "term 2 'foo' at offset 12: unknown mechanism");
	parse_bad("v=spf1 ip4:192.0.2.1/33", "bad CIDR");
	parse_bad("v=spf1 ip4:192.0.2.1/024", "bad CIDR");
	parse_bad("v=spf1 ip4:192.0.2", "bad IPv4");
	parse_bad("v=spf1 ip6:2001:db8::/129", "bad CIDR");
	parse_bad("v=spf1 ip6:2001:zz8::", "bad IPv6");
	parse_bad("v=spf1 a:example.com/33", "CIDR");
	parse_bad("v=spf1 a//129", "CIDR");
	parse_bad("v=spf1 include", "domain-spec");
	parse_bad("v=spf1 include:", "domain-spec");
	parse_bad("v=spf1 include:com", "domain-spec");         /* no "." toplabel */
	parse_bad("v=spf1 include:example.123", "domain-spec"); /* numeric toplabel */
	parse_bad("v=spf1 exists:%{x}.example.com", "domain-spec");
	parse_bad("v=spf1 exists:%{d0}.example.com", "domain-spec");
	parse_bad("v=spf1 exists:%(ir).example.com", "domain-spec");
	parse_bad("v=spf1 exists:foo%.example.com", "domain-spec");
	parse_bad("v=spf1 exists:%{r}.example.com", "domain-spec"); /* r: exp only */
	parse_bad("v=spf1 all:foo", "no argument");
	parse_bad("v=spf1 -redirect=x.example.com", "qualifier");
	parse_bad("v=spf1 redirect=a.example.com redirect=b.example.com", "twice");
	parse_bad("v=spf1 exp=a.example.com exp=b.example.com", "twice");
	parse_bad("v=spf1 exp= -all", "domain-spec");
	parse_bad("v=spf1 =all", "name");
	parse_bad("v=spf1 1up=foo", "name");
	parse_bad("v=spf1 foo=%abc", "macro");
	parse_bad("v=spf1 a:ex\x80.example.com", "\\x80");
	parse_bad("v=spf1 ip4:192.0.2.5\n", "\\x0a");
	parse_bad("v=spf1 ptr/24", "unexpected");
	/* domain-specs that end in a macro need no toplabel */
	spf_record_free(parse_ok("v=spf1 exists:%{i}"));
	spf_record_free(parse_ok("v=spf1 a:%{d}.example.com. -all"));
	spf_record_free(parse_ok("v=spf1 a:1-2.example.1-2"));
	spf_record_free(parse_ok("v=spf1 exp=%{l}%-"));
}
END_TEST

/* ---- macros ------------------------------------------------------------------ */

static struct spf_macro_vars rfc_vars(int v6)
{
	/* RFC 7208 §7.4: sender strong-bad@email.example.com, client 192.0.2.3
	 * or 2001:db8::cb01, PTR name mx.example.org */
	struct spf_macro_vars v = {
	    .sender = "strong-bad@email.example.com",
	    .local = "strong-bad",
	    .sender_domain = "email.example.com",
	    .domain = "email.example.com",
	    .helo = "mx.example.org",
	    .ptr = "mx.example.org",
	    .receiver = "rcv.example.net",
	    .now = 1234567890,
	};
	v.af = v6 ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(v.af, v6 ? "2001:db8::cb01" : "192.0.2.3", v.ip), 1);
	return v;
}

static void expands(const struct spf_macro_vars *v, int flags, const char *spec, const char *want)
{
	char out[SPF_EXPAND_MAX];
	int rc = spf_macro_expand(v, spec, strlen(spec), flags, out, sizeof(out), NULL);
	ck_assert_msg(rc == 0, "'%s' failed to expand (%d)", spec, rc);
	ck_assert_msg(strcmp(out, want) == 0, "'%s' expanded to '%s', want '%s'", spec, out, want);
}

START_TEST(test_macro_rfc_examples)
{
	struct spf_macro_vars v = rfc_vars(0);
	expands(&v, 0, "%{s}", "strong-bad@email.example.com");
	expands(&v, 0, "%{o}", "email.example.com");
	expands(&v, 0, "%{d}", "email.example.com");
	expands(&v, 0, "%{d4}", "email.example.com");
	expands(&v, 0, "%{d3}", "email.example.com");
	expands(&v, 0, "%{d2}", "example.com");
	expands(&v, 0, "%{d1}", "com");
	expands(&v, 0, "%{dr}", "com.example.email");
	expands(&v, 0, "%{d2r}", "example.email");
	expands(&v, 0, "%{l}", "strong-bad");
	expands(&v, 0, "%{l-}", "strong.bad");
	expands(&v, 0, "%{lr}", "strong-bad");
	expands(&v, 0, "%{lr-}", "bad.strong");
	expands(&v, 0, "%{l1r-}", "strong");
	expands(&v, 0, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com");
	expands(&v, 0, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
	expands(&v, 0, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	        "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expands(&v, 0, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	        "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expands(&v, 0, "%{d2}.trusted-domains.example.net",
	        "example.com.trusted-domains.example.net");
	struct spf_macro_vars v6 = rfc_vars(1);
	expands(
	    &v6, 0, "%{ir}.%{v}._spf.%{d2}",
	    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
}
END_TEST

START_TEST(test_macro_other_letters)
{
	struct spf_macro_vars v = rfc_vars(0);
	expands(&v, 0, "%%%_%-", "% %20");
	expands(&v, 0, "%{h}/%{p}", "mx.example.org/mx.example.org");
	v.ptr = NULL;
	expands(&v, 0, "%{p}", "unknown");
	expands(&v, SPF_MACRO_EXP, "%{c} %{r} %{t}", "192.0.2.3 rcv.example.net 1234567890");
	struct spf_macro_vars v6 = rfc_vars(1);
	expands(&v6, SPF_MACRO_EXP, "%{c}", "2001:db8::cb01");
	/* uppercase: URL-escaped, RFC 3986 unreserved kept (§7.3) */
	v.local = "~jack&jill=up-a_b3.c";
	expands(&v, 0, "%{L}", "~jack%26jill%3Dup-a_b3.c");
	expands(&v, 0, "%{S}", "strong-bad%40email.example.com");
	/* several delimiters, huge and excess digits */
	v.local = "foo-bar+zip+quux";
	expands(&v, 0, "%{l2r+-}", "bar.foo"); /* reversed, then the right two */
	expands(&v, 0, "%{l2+-}", "zip.quux");
	expands(&v, 0, "%{l99999999999999999999}", "foo-bar+zip+quux");
	expands(&v, 0, "%{l1000r+-}", "quux.zip.bar.foo");
	/* empty parts survive */
	v.local = "a..b";
	expands(&v, 0, "%{lr}", "b..a");
}
END_TEST

START_TEST(test_macro_malformed)
{
	static const char *bad[] = {
	    "%",  "%{",    "%{d",  "%{d2", "%{}",  "%{x}",     "%{d0}", "%{d2rr}",  "%{d-a}",
	    "%a", "%{ d}", "%{c}", "%{r}", "%{t}", "ex ample", "\x7f",  "\xc3\xa9",
	};
	struct spf_macro_vars v = rfc_vars(0);
	char out[64];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spf_macro_expand(&v, bad[i], strlen(bad[i]), 0, out, sizeof(out), NULL);
		ck_assert_msg(rc == MX_ESYNTAX, "'%s' should be a syntax error, got %d", bad[i],
		              rc);
		ck_assert_str_eq(out, "");
		ck_assert_int_eq(spf_macro_check(bad[i], strlen(bad[i]), 0), MX_ESYNTAX);
	}
	/* in explanations spaces and c/r/t are fine */
	ck_assert_int_eq(spf_macro_check("from %{c} at %{t}", 17, SPF_MACRO_EXP), 0);
	ck_assert_int_eq(spf_macro_expand(&v, "x", 1, 0, out, 1, NULL), MX_EINVAL);
}
END_TEST

START_TEST(test_macro_bounds)
{
	struct spf_macro_vars v = rfc_vars(0);
	char longlocal[400];
	memset(longlocal, 'a', sizeof(longlocal) - 1);
	longlocal[sizeof(longlocal) - 1] = '\0';
	for (size_t i = 10; i < sizeof(longlocal) - 1; i += 11)
		longlocal[i] = '.';
	v.local = longlocal;
	/* head mode: cut at the buffer, never past it */
	char small[16];
	memset(small, 'Z', sizeof(small));
	int trunc = 0;
	ck_assert_int_eq(spf_macro_expand(&v, "%{l}%{l}", 8, SPF_MACRO_EXP, small, 10, &trunc), 0);
	ck_assert_int_eq(trunc, 1);
	ck_assert_uint_eq(strlen(small), 9);
	ck_assert_int_eq(small[10], 'Z');
	/* URL escaping triples the size: still bounded */
	ck_assert_int_eq(spf_macro_expand(&v, "%{L}%{L}%{L}%{L}", 16, 0, small, 10, &trunc), 0);
	ck_assert_uint_eq(strlen(small), 9);
	ck_assert_int_eq(small[10], 'Z');

	/* domain mode: 8 x 399 bytes keeps the right-hand labels, <= 253 */
	char *spec = "%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.example.com";
	char out[SPF_EXPAND_MAX];
	ck_assert_int_eq(
	    spf_macro_expand(&v, spec, strlen(spec), SPF_MACRO_DOMAIN, out, sizeof(out), &trunc),
	    0);
	ck_assert_int_eq(trunc, 1);
	ck_assert_uint_le(strlen(out), SPF_DOMAIN_MAX);
	ck_assert_msg(strlen(out) > 200, "kept only '%s'", out);
	const char *tail = out + strlen(out) - strlen(".example.com");
	ck_assert_str_eq(tail, ".example.com");
	ck_assert_msg(out[0] != '.' && strncmp(out, "aaaaaaaaaa.", 11) == 0,
	              "truncation must drop whole labels: '%.20s'", out);
	/* §7.3's own case: the longest label-aligned suffix */
	v.sender_domain = "somewhat.long.exp.example.com";
	spec = "foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com";
	ck_assert_int_eq(
	    spf_macro_expand(&v, spec, strlen(spec), SPF_MACRO_DOMAIN, out, sizeof(out), NULL), 0);
	ck_assert_uint_eq(strlen(out), 8 * 30 + 11);
	ck_assert(strncmp(out, "somewhat.long", 13) == 0);
	/* a single label longer than 253 is cut, not overrun */
	char lab[600];
	memset(lab, 'b', sizeof(lab) - 1);
	lab[sizeof(lab) - 1] = '\0';
	v.local = lab;
	ck_assert_int_eq(spf_macro_expand(&v, "%{l}", 4, SPF_MACRO_DOMAIN, out, sizeof(out), NULL),
	                 0);
	ck_assert_uint_eq(strlen(out), SPF_DOMAIN_MAX);
}
END_TEST

/* ---- check_host --------------------------------------------------------- */

START_TEST(test_eval_basic)
{
	static const struct rec z[] = {
	    {"example.com", "TXT", "v=spf1 a mx ip6:2001:db8::/32 include:inc.example.net -all"},
	    {"example.com", "TXT", "some other text"},
	    {"example.com", "A", "192.0.2.1"},
	    {"example.com", "MX", "mail.example.com"},
	    {"mail.example.com", "A", "192.0.2.25"},
	    {"inc.example.net", "TXT", "v=spf1 ip4:198.51.100.0/24 ~all exp=x.example.net"},
	    {"x.example.net", "TXT", "not this one"},
	    {"temp.example.com", "TEMP", ""},
	    {"two.example.com", "TXT", "v=spf1 -all"},
	    {"two.example.com", "TXT", "v=spf1 +all"},
	    {"exp.example.com", "TXT", "v=spf1 -all exp=why.example.com"},
	    {"why.example.com", "TXT", "%{i} is not one of %{d}'s senders"},
	    {NULL, NULL, NULL},
	};
	struct spf_outcome o;
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@example.com", &o), SPF_PASS);
	ck_assert_str_eq(o.mechanism, "a");
	ck_assert_int_eq(eval(z, "192.0.2.25", "a@example.com", &o), SPF_PASS);
	ck_assert_str_eq(o.mechanism, "mx");
	ck_assert_int_eq(eval(z, "2001:db8::5", "a@example.com", &o), SPF_PASS);
	ck_assert_int_eq(eval(z, "198.51.100.7", "a@example.com", &o), SPF_PASS);
	ck_assert_str_eq(o.mechanism, "include:inc.example.net");
	ck_assert_int_eq(eval(z, "203.0.113.1", "a@example.com", &o), SPF_FAIL);
	ck_assert_str_eq(o.mechanism, "-all");
	ck_assert_str_eq(o.explanation, "DEFAULT"); /* the include's exp is not used */
	ck_assert_int_eq(eval(z, "::ffff:192.0.2.1", "a@example.com", &o), SPF_PASS);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@nowhere.example.com", &o), SPF_NONE);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@temp.example.com", &o), SPF_TEMPERROR);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@two.example.com", &o), SPF_PERMERROR);
	ck_assert_msg(strstr(o.reason, "more than one"), "%s", o.reason);
	ck_assert_int_eq(eval(z, "192.0.2.9", "a@exp.example.com", &o), SPF_FAIL);
	ck_assert_str_eq(o.explanation, "192.0.2.9 is not one of exp.example.com's senders");
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@localhost", &o), SPF_NONE);
	struct spf_resolver r = table(z);
	struct spf_request bad = {.ip = "192.0.2.300", .sender = "a@example.com"};
	ck_assert_int_eq(spf_check_host(&r, &bad, &o), MX_EINVAL);
	/* empty MAIL FROM: postmaster@helo */
	struct spf_request helo = {.ip = "192.0.2.1", .sender = "", .helo = "example.com"};
	ck_assert_int_eq(spf_check_host(&r, &helo, &o), 0);
	ck_assert_int_eq(o.result, SPF_PASS);
}
END_TEST

START_TEST(test_eval_limits)
{
	static const struct rec z[] = {
	    /* 10 lookups then a match: pass; 11: permerror (§4.6.4) */
	    {"ten.example.com", "TXT", "v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all"},
	    {"eleven.example.com", "TXT", "v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all"},
	    {"ten.example.com", "A", "192.0.2.99"},
	    {"eleven.example.com", "A", "192.0.2.99"},
	    /* counted through includes and redirect */
	    {"inc.example.com", "TXT", "v=spf1 include:i1.example.com redirect=i2.example.com"},
	    {"i1.example.com", "TXT", "v=spf1 a a a a a"},
	    {"i1.example.com", "A", "192.0.2.99"},
	    {"i2.example.com", "TXT", "v=spf1 a a a ip4:192.0.2.1"},
	    {"i2.example.com", "A", "192.0.2.99"},
	    /* loops end at the limit */
	    {"loop.example.com", "TXT", "v=spf1 include:loop.example.com"},
	    {"rloop.example.com", "TXT", "v=spf1 redirect=rloop.example.com"},
	    /* void lookups: two allowed, the third is permerror */
	    {"void2.example.com", "TXT", "v=spf1 a:n1.example.com mx:n2.example.com ?all"},
	    {"void3.example.com", "TXT",
	     "v=spf1 a:n1.example.com mx:n2.example.com exists:n3.example.com ?all"},
	    /* more than 10 MX names: permerror */
	    {"mx.example.com", "TXT", "v=spf1 mx -all"},
	    {"mx.example.com", "MX", "m1.example.com"},
	    {"mx.example.com", "MX", "m2.example.com"},
	    {"mx.example.com", "MX", "m3.example.com"},
	    {"mx.example.com", "MX", "m4.example.com"},
	    {"mx.example.com", "MX", "m5.example.com"},
	    {"mx.example.com", "MX", "m6.example.com"},
	    {"mx.example.com", "MX", "m7.example.com"},
	    {"mx.example.com", "MX", "m8.example.com"},
	    {"mx.example.com", "MX", "m9.example.com"},
	    {"mx.example.com", "MX", "m10.example.com"},
	    {"mx.example.com", "MX", "m11.example.com"},
	    {"m1.example.com", "A", "192.0.2.1"},
	    {NULL, NULL, NULL},
	};
	struct spf_outcome o;
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@ten.example.com", &o), SPF_PASS);
	ck_assert_int_eq(o.lookups, 10);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@eleven.example.com", &o), SPF_PERMERROR);
	ck_assert_msg(strstr(o.reason, "4.6.4"), "%s", o.reason);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@inc.example.com", &o), SPF_PASS);
	ck_assert_int_eq(o.lookups, 10);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@loop.example.com", &o), SPF_PERMERROR);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@rloop.example.com", &o), SPF_PERMERROR);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@void2.example.com", &o), SPF_NEUTRAL);
	ck_assert_int_eq(o.voids, 2);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@void3.example.com", &o), SPF_PERMERROR);
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@mx.example.com", &o), SPF_PERMERROR);

	/* configurable limits */
	struct spf_resolver r = table(z);
	struct spf_request req = {
	    .ip = "192.0.2.1", .sender = "a@eleven.example.com", .max_lookups = 11};
	ck_assert_int_eq(spf_check_host(&r, &req, &o), 0);
	ck_assert_int_eq(o.result, SPF_PASS);
}
END_TEST

START_TEST(test_eval_ptr)
{
	static const struct rec z[] = {
	    {"p.example.com", "TXT", "v=spf1 ptr -all exp=e.example.com"},
	    {"e.example.com", "TXT", "%{p}"},
	    {"1.2.0.192.in-addr.arpa", "PTR", "mail.p.example.com."},
	    {"1.2.0.192.in-addr.arpa", "PTR", "other.example.org"},
	    {"mail.p.example.com", "A", "192.0.2.1"},
	    {"2.2.0.192.in-addr.arpa", "PTR", "mail.p.example.com"}, /* does not validate */
	    {"other.example.org", "A", "192.0.2.3"},
	    {"3.2.0.192.in-addr.arpa", "PTR", "other.example.org"},
	    {"1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR",
	     "v6.p.example.com"},
	    {"v6.p.example.com", "AAAA", "2001:db8::cb01"},
	    {NULL, NULL, NULL},
	};
	struct spf_outcome o;
	ck_assert_int_eq(eval(z, "192.0.2.1", "a@p.example.com", &o), SPF_PASS);
	ck_assert_int_eq(eval(z, "2001:db8::cb01", "a@p.example.com", &o), SPF_PASS);
	ck_assert_int_eq(eval(z, "192.0.2.2", "a@p.example.com", &o), SPF_FAIL);
	ck_assert_str_eq(o.explanation, "unknown");
	ck_assert_int_eq(eval(z, "192.0.2.3", "a@p.example.com", &o), SPF_FAIL);
	ck_assert_str_eq(o.explanation, "other.example.org"); /* validated, not under d */
}
END_TEST

/* ---- lint and build ------------------------------------------------------ */

static int has(const struct spf_lint *l, enum spf_lint_level lv, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].level == lv && strstr(l->items[i].msg, needle))
			return 1;
	return 0;
}

START_TEST(test_lint)
{
	static const struct rec z[] = {
	    {"example.com", "TXT", "v=spf1 include:a.example.net include:b.example.net mx -all"},
	    {"example.com", "TXT", "spf2.0/pra include:a.example.net -all"},
	    {"example.com", "SPF", "v=spf1 -all"},
	    {"example.com", "MX", "mail.example.com"},
	    {"a.example.net", "TXT", "v=spf1 a a a a a ptr"},
	    {"a.example.net", "A", "192.0.2.1"},
	    {"b.example.net", "TXT", "v=spf1 redirect=c.example.net"},
	    {"c.example.net", "TXT",
	     "v=spf1 a:gone.example.net mx:gone2.example.net exists:x.example.net ~all"},
	    {"dup.example.com", "TXT", "v=spf1 +all"},
	    {"dup.example.com", "TXT", "v=spf1 -all"},
	    {NULL, NULL, NULL},
	};
	struct spf_resolver r = table(z);
	struct spf_lint *l = malloc(sizeof(*l));
	ck_assert_int_eq(spf_lint_domain(&r, "example.com", l), 0);
	/* 3 + 6 (a.example.net) + 1 (redirect) + 3 (c.example.net) */
	ck_assert_int_eq(l->lookups, 13);
	ck_assert_int_eq(l->voids, 3);
	ck_assert(has(l, SPF_LINT_ERROR, "13 DNS-querying terms"));
	ck_assert(has(l, SPF_LINT_ERROR, "3 void lookups"));
	ck_assert(has(l, SPF_LINT_WARNING, "'ptr'"));
	ck_assert(has(l, SPF_LINT_WARNING, "spf2.0"));
	ck_assert(has(l, SPF_LINT_WARNING, "SPF RR type"));

	ck_assert_int_eq(spf_lint_domain(&r, "dup.example.com", l), 0);
	ck_assert(has(l, SPF_LINT_ERROR, "2 SPF records"));
	ck_assert(has(l, SPF_LINT_WARNING, "every host"));

	ck_assert_int_eq(spf_lint_domain(&r, "none.example.com", l), 0);
	ck_assert(has(l, SPF_LINT_ERROR, "no SPF record"));

	const char *rec = "v=spf1 include:nothere.example.org ?all foo=bar";
	ck_assert_int_eq(spf_lint_record(&r, NULL, rec, strlen(rec), l), 0);
	ck_assert(has(l, SPF_LINT_ERROR, "nothere.example.org has no SPF record"));
	ck_assert(has(l, SPF_LINT_WARNING, "?all"));
	ck_assert(has(l, SPF_LINT_WARNING, "unknown modifier"));

	rec = "v=spf1 ip4:192.0.2.1/24 -all ip4:10.0.0.0/4";
	ck_assert_int_eq(spf_lint_record(NULL, NULL, rec, strlen(rec), l), 0);
	ck_assert_int_eq(l->errors, 0);
	ck_assert(has(l, SPF_LINT_INFO, "host bits"));
	ck_assert(has(l, SPF_LINT_WARNING, "never evaluated"));
	ck_assert(has(l, SPF_LINT_WARNING, "huge network"));

	char big[600] = "v=spf1";
	while (strlen(big) < 500)
		strcat(big, " ip4:192.0.2.1");
	strcat(big, " -all");
	ck_assert_int_eq(spf_lint_record(NULL, NULL, big, strlen(big), l), 0);
	ck_assert(has(l, SPF_LINT_INFO, "255 bytes"));
	ck_assert(has(l, SPF_LINT_WARNING, "450"));

	rec = "v=spf1 ip4:1.2.3.4/99";
	ck_assert_int_eq(spf_lint_record(NULL, NULL, rec, strlen(rec), l), 0);
	ck_assert(has(l, SPF_LINT_ERROR, "bad CIDR"));
	free(l);
}
END_TEST

START_TEST(test_build)
{
	char out[1024], err[256];
	const char *ip4[] = {"192.0.2.0/24", "198.51.100.1"};
	const char *inc[] = {"_spf.example.net"};
	struct spf_build b = {
	    .mx = 1, .a = 1, .ip4 = ip4, .n_ip4 = 2, .include = inc, .n_include = 1, .all = '-'};
	ck_assert_int_eq(spf_build_record(&b, out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "v=spf1 a mx ip4:192.0.2.0/24 ip4:198.51.100.1 "
	                      "include:_spf.example.net -all");
	b.all = '~';
	ck_assert_int_eq(spf_build_record(&b, out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out + strlen(out) - 5, " ~all");

	const char *bad4[] = {"192.0.2.0/33"};
	b.ip4 = bad4;
	b.n_ip4 = 1;
	ck_assert_int_eq(spf_build_record(&b, out, sizeof(out), err, sizeof(err)), MX_ESYNTAX);
	ck_assert_msg(strstr(err, "192.0.2.0/33"), "%s", err);
	ck_assert_str_eq(out, "");

	const char *many[] = {"a.example.net", "b.example.net", "c.example.net",
	                      "d.example.net", "e.example.net", "f.example.net",
	                      "g.example.net", "h.example.net", "i.example.net"};
	struct spf_build lim = {.mx = 1, .include = many, .n_include = 9, .all = '-'};
	ck_assert_int_eq(spf_build_record(&lim, out, sizeof(out), err, sizeof(err)), 0);
	lim.a = 1;
	ck_assert_int_eq(spf_build_record(&lim, out, sizeof(out), err, sizeof(err)), MX_ELIMIT);
	ck_assert_msg(strstr(err, "11 DNS-querying"), "%s", err);

	struct spf_build red = {.redirect = "_spf.example.net", .all = '-'};
	ck_assert_int_eq(spf_build_record(&red, out, sizeof(out), err, sizeof(err)), MX_EINVAL);
	red.all = 0;
	ck_assert_int_eq(spf_build_record(&red, out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "v=spf1 redirect=_spf.example.net");
	ck_assert_int_eq(spf_build_record(&red, out, 10, err, sizeof(err)), MX_ESPACE);
}
END_TEST

START_TEST(test_result_names)
{
	for (int r = SPF_NONE; r <= SPF_PERMERROR; r++)
		ck_assert_int_eq(spf_result_from_name(spf_result_name(r)), r);
	ck_assert_int_eq(spf_result_from_name("bogus"), -1);
	ck_assert_str_eq(spf_result_name(99), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spf");
	TCase *tc = tcase_create("spf");
	tcase_add_test(tc, test_parse_terms);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_macro_rfc_examples);
	tcase_add_test(tc, test_macro_other_letters);
	tcase_add_test(tc, test_macro_malformed);
	tcase_add_test(tc, test_macro_bounds);
	tcase_add_test(tc, test_eval_basic);
	tcase_add_test(tc, test_eval_limits);
	tcase_add_test(tc, test_eval_ptr);
	tcase_add_test(tc, test_lint);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_result_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

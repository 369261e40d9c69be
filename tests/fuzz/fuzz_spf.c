/* fuzz_spf: the SPF engine of mxdns (tools/spf.h, RFC 7208): the record
 * parser, macro expansion, lint, and check_host() against a resolver
 * whose answers come from the input.
 *
 * Byte 0 picks what runs on the rest:
 *   0  spf_record_parse, spf_record_lookup_terms and spf_lint_record
 *      (no resolver) on the text as one record
 *   1  a macro-string: spf_macro_check must agree with spf_macro_expand,
 *      and expansion must stay in its buffer whatever its size (byte 1
 *      picks flags and capacity)
 *   2  check_host(): the text is split into lines; a TXT query for any
 *      name answers with the line the name hashes to, so includes,
 *      redirects and macros chain through attacker-chosen records; A,
 *      AAAA, MX and PTR answer fixed data. Deterministic: no clock (now
 *      is fixed), no network. */
#include "fuzz.h"

#include "errcode.h"
#include "spf.h"

#include <arpa/inet.h>
#include <sys/socket.h>

struct fuzz_spf_zone {
	char **line;
	size_t n;
};

static uint32_t fuzz_spf_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int fuzz_spf_txt(void *ctx, const char *name, struct spf_answer *out)
{
	const struct fuzz_spf_zone *z = ctx;
	uint32_t h = fuzz_spf_hash(name);
	if (z->n == 0 || h % 7 == 6)
		return SPF_DNS_NXDOMAIN;
	if (h % 11 == 10)
		return SPF_DNS_TEMPFAIL;
	const char *l = z->line[h % z->n];
	/* A line with a tab becomes a TXT record of several strings. */
	const char *tab = strchr(l, '\t');
	if (!tab)
		return spf_answer_add_text(out, l, strlen(l)) == 0 ? SPF_DNS_OK : SPF_DNS_TEMPFAIL;
	if (spf_answer_add_text(out, l, (size_t)(tab - l)) != 0 ||
	    spf_answer_append_text(out, tab + 1, strlen(tab + 1)) != 0)
		return SPF_DNS_TEMPFAIL;
	/* And a second record, so "more than one SPF record" is reachable. */
	if (h % 5 == 4 && spf_answer_add_text(out, l, strlen(l)) != 0)
		return SPF_DNS_TEMPFAIL;
	return SPF_DNS_OK;
}

static int fuzz_spf_a(void *ctx, const char *name, struct spf_answer *out)
{
	uint32_t h = fuzz_spf_hash(name);
	uint8_t a[4] = {192, 0, 2, (uint8_t)(h % 4)};
	if (h % 3 == 2)
		return SPF_DNS_NXDOMAIN;
	return spf_answer_add_addr(out, AF_INET, a) == 0 ? SPF_DNS_OK : SPF_DNS_TEMPFAIL;
}

static int fuzz_spf_aaaa(void *ctx, const char *name, struct spf_answer *out)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
	a[15] = (uint8_t)(fuzz_spf_hash(name) % 4);
	return spf_answer_add_addr(out, AF_INET6, a) == 0 ? SPF_DNS_OK : SPF_DNS_TEMPFAIL;
}

static int fuzz_spf_mx(void *ctx, const char *name, struct spf_answer *out)
{
	uint32_t h = fuzz_spf_hash(name);
	if (h % 4 == 3)
		return SPF_DNS_OK; /* no records: a void lookup */
	if (spf_answer_add_name(out, 10, "mx1.example.com") != 0 ||
	    spf_answer_add_name(out, 20, name) != 0)
		return SPF_DNS_TEMPFAIL;
	return SPF_DNS_OK;
}

static int fuzz_spf_ptr(void *ctx, const char *name, struct spf_answer *out)
{
	if (spf_answer_add_name(out, 0, "mail.example.com") != 0 ||
	    spf_answer_add_name(out, 0, "other.example.net") != 0)
		return SPF_DNS_TEMPFAIL;
	return SPF_DNS_OK;
}

static void fuzz_spf_record(const char *text, size_t len)
{
	struct spf_record *r = NULL;
	char err[256];
	err[0] = '\0';
	int rc = spf_record_parse(text, len, &r, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(r != NULL);
		int n = spf_record_lookup_terms(r);
		FUZZ_CHECK(n >= 0 && (size_t)n <= r->n);
		for (size_t i = 0; i < r->n; i++)
			FUZZ_CHECK(r->terms[i].pos < len && r->terms[i].text != NULL);
		spf_record_free(r);
	} else {
		FUZZ_CHECK(rc == MX_ESYNTAX || rc == MX_ELIMIT || rc == -ENOMEM);
		FUZZ_CHECK(rc != MX_ESYNTAX || err[0] != '\0');
	}
	struct spf_lint *lint = malloc(sizeof(*lint));
	FUZZ_CHECK(lint != NULL);
	(void)spf_lint_record(NULL, "example.com", text, len, lint);
	FUZZ_CHECK(lint->n <= SPF_LINT_MAX_ITEMS);
	free(lint);
}

static void fuzz_spf_macro(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	int flags = data[0] & 3;
	size_t cap = 2 + (size_t)(data[0] >> 2) * 5; /* 2..317 */
	const char *spec = (const char *)data + 1;
	size_t len = size - 1;
	struct spf_macro_vars v = {
		.sender = "strong-bad@email.example.com",
		.local = "strong-bad",
		.sender_domain = "email.example.com",
		.domain = "email.example.com",
		.helo = "mx.example.org",
		.ptr = (data[0] & 0x80) ? NULL : "mx.example.org",
		.receiver = "receiver.example.net",
		.now = 1767225600,
		.af = (data[0] & 0x40) ? AF_INET6 : AF_INET,
		.ip = {192, 0, 2, 3},
	};
	if (v.af == AF_INET6)
		inet_pton(AF_INET6, "2001:db8::cb01", v.ip);
	char *out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	int truncated = 0;
	int c = spf_macro_check(spec, len, flags);
	int e = spf_macro_expand(&v, spec, len, flags, out, cap, &truncated);
	(void)spf_macro_uses_p(spec, len);
	if ((c == 0) != (e == 0)) {
		fprintf(stderr, "fuzz_spf: spf_macro_check says %d, spf_macro_expand %d\n", c, e);
		abort();
	}
	if (e == 0) {
		size_t n = strnlen(out, cap);
		FUZZ_CHECK(n < cap);
		/* RFC 7208 §7.3: at most 253 characters, not counting the
		 * root's dot, which the expansion may end with. */
		if (flags & SPF_MACRO_DOMAIN)
			FUZZ_CHECK(n <= SPF_DOMAIN_MAX + (size_t)(n > 0 && out[n - 1] == '.'));
	}
	free(out);
}

static void fuzz_spf_check(char *text)
{
	struct fuzz_spf_zone z = {0};
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l && z.n < 64; l = strtok_r(NULL, "\n", &save)) {
		char **grown = realloc(z.line, (z.n + 1) * sizeof(*z.line));
		FUZZ_CHECK(grown != NULL);
		z.line = grown;
		z.line[z.n++] = l;
	}
	struct spf_resolver res = {&z, fuzz_spf_txt, fuzz_spf_a, fuzz_spf_aaaa, fuzz_spf_mx,
				   fuzz_spf_ptr, NULL};
	static const char *const ips[] = {"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.2"};
	struct spf_outcome *o = malloc(sizeof(*o));
	FUZZ_CHECK(o != NULL);
	struct spf_request req = {
		.ip = ips[z.n % 3],
		.sender = "user@example.com",
		.helo = "mx.example.org",
		.receiver = "mx.example.net",
		.now = 1767225600,
	};
	int rc = spf_check_host(&res, &req, o);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(o->result >= SPF_NONE && o->result <= SPF_PERMERROR);
	FUZZ_CHECK(o->lookups <= SPF_MAX_LOOKUPS + 1 && o->voids <= SPF_MAX_VOIDS + 1);
	FUZZ_CHECK(memchr(o->explanation, 0, sizeof(o->explanation)) != NULL);
	FUZZ_CHECK(memchr(o->mechanism, 0, sizeof(o->mechanism)) != NULL);

	/* And lint through the same records, following includes. */
	struct spf_lint *lint = malloc(sizeof(*lint));
	FUZZ_CHECK(lint != NULL);
	(void)spf_lint_domain(&res, "example.com", lint);
	FUZZ_CHECK(lint->n <= SPF_LINT_MAX_ITEMS);
	free(lint);
	free(o);
	free(z.line);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = fuzz_cstr(data + 1, size - 1);
	FUZZ_CHECK(text != NULL);
	switch (data[0] % 3) {
	case 0:
		fuzz_spf_record((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_spf_macro(data + 1, size - 1);
		break;
	default:
		fuzz_spf_check(text);
		break;
	}
	free(text);
	return 0;
}

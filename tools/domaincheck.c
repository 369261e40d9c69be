/* domaincheck: report and evaluation helpers of `mxdns check`, see
 * domaincheck.h. */
#include "domaincheck.h"

#include "dmarc.h"
#include "errcode.h"
#include "findings.h"
#include "json.h"
#include "mailuri.h"
#include "txtrec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the report --------------------------------------------------------- */

void dc_report_init(struct dc_report *r)
{
	memset(r, 0, sizeof(*r));
}

void dc_report_cleanup(struct dc_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->line[i].text);
	free(r->line);
	memset(r, 0, sizeof(*r));
}

void dc_add(struct dc_report *r, enum dc_section s, enum dc_level level, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int len;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct dc_line *l = realloc(r->line, cap * sizeof(*l));
		if (l == NULL)
			goto fail;
		r->line = l;
		r->cap = cap;
	}
	va_start(ap, fmt);
	len = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (len < 0)
		goto fail;
	r->line[r->n].section = s;
	r->line[r->n].level = level;
	r->line[r->n].text = text;
	r->n++;
	return;
fail:
	r->oom = true;
}

void dc_add_findings(struct dc_report *r, enum dc_section s, const struct findings *f,
		     const char *prefix)
{
	for (size_t i = 0; i < f->count; i++) {
		enum dc_level level = f->item[i].level == FINDING_ERROR  ? DC_FAIL
				      : f->item[i].level == FINDING_WARN ? DC_WARN
									 : DC_INFO;
		dc_add(r, s, level, "%s%s", prefix ? prefix : "", f->item[i].msg);
	}
	if (f->dropped)
		dc_add(r, s, DC_INFO, "%s(%zu more findings not shown)", prefix ? prefix : "",
		       f->dropped);
}

size_t dc_count(const struct dc_report *r, enum dc_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->line[i].level == level)
			n++;
	if (level == DC_FAIL && r->oom)
		n++;
	return n;
}

bool dc_has(const struct dc_report *r, enum dc_section s, enum dc_level level,
	    const char *needle)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->line[i].section == s && r->line[i].level == level &&
		    strstr(r->line[i].text, needle) != NULL)
			return true;
	return false;
}

enum dc_level dc_section_level(const struct dc_report *r, enum dc_section s)
{
	enum dc_level worst = DC_OK;

	for (size_t i = 0; i < r->n; i++)
		if (r->line[i].section == s && r->line[i].level > worst)
			worst = r->line[i].level;
	/* INFO lines do not make a section less than OK. */
	return worst == DC_INFO ? DC_OK : worst;
}

const char *dc_section_name(enum dc_section s)
{
	static const char *names[DC_NSECTIONS] = {"MX",	    "SPF",     "DKIM", "DMARC",
						  "MTA-STS", "TLS-RPT", "TLSA", "DNSBL"};
	return (unsigned)s < DC_NSECTIONS ? names[s] : "?";
}

const char *dc_level_name(enum dc_level level)
{
	switch (level) {
	case DC_OK:
		return "OK";
	case DC_INFO:
		return "INFO";
	case DC_WARN:
		return "WARN";
	default:
		return "FAIL";
	}
}

static size_t section_lines(const struct dc_report *r, enum dc_section s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->line[i].section == s)
			n++;
	return n;
}

/* A section without lines was skipped (e.g. after NXDOMAIN), not passed. */
static const char *section_status(const struct dc_report *r, enum dc_section s)
{
	return section_lines(r, s) ? dc_level_name(dc_section_level(r, s)) : "SKIPPED";
}

void dc_report_print(const struct dc_report *r, FILE *out, const char *domain)
{
	size_t fails = dc_count(r, DC_FAIL), warns = dc_count(r, DC_WARN);

	fprintf(out, "mail DNS check of %s\n", domain);
	for (int s = 0; s < DC_NSECTIONS; s++) {
		fprintf(out, "\n%s: %s\n", dc_section_name(s), section_status(r, s));
		for (size_t i = 0; i < r->n; i++)
			if (r->line[i].section == (enum dc_section)s)
				fprintf(out, "  %-4s  %s\n", dc_level_name(r->line[i].level),
					r->line[i].text);
	}
	if (r->oom)
		fprintf(out, "\n(out of memory: some lines were lost)\n");
	fprintf(out, "\n%s: %zu FAIL, %zu WARN\n", fails ? "FAILED" : "passed", fails, warns);
}

void dc_report_json(const struct dc_report *r, struct json *j, const char *domain)
{
	json_obj_begin(j);
	json_kv_str(j, "domain", domain);
	json_kv_bool(j, "ok", dc_count(r, DC_FAIL) == 0);
	json_kv_int(j, "fail", (int64_t)dc_count(r, DC_FAIL));
	json_kv_int(j, "warn", (int64_t)dc_count(r, DC_WARN));
	json_kv_int(j, "info", (int64_t)dc_count(r, DC_INFO));
	json_kv_int(j, "ok_lines", (int64_t)dc_count(r, DC_OK));
	json_key(j, "sections");
	json_arr_begin(j);
	for (int s = 0; s < DC_NSECTIONS; s++) {
		json_obj_begin(j);
		json_kv_str(j, "name", dc_section_name(s));
		json_kv_str(j, "status", section_status(r, s));
		json_key(j, "lines");
		json_arr_begin(j);
		for (size_t i = 0; i < r->n; i++) {
			if (r->line[i].section != (enum dc_section)s)
				continue;
			json_obj_begin(j);
			json_kv_str(j, "status", dc_level_name(r->line[i].level));
			json_kv_str(j, "text", r->line[i].text);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* ---- names -------------------------------------------------------------- */

int dc_rev_name(const char *addr, const char *suffix, char *out, size_t cap)
{
	unsigned char b[16];
	size_t pos = 0;
	int w;

	if (inet_pton(AF_INET, addr, b) == 1) {
		w = snprintf(out, cap, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0],
			     suffix ? suffix : "in-addr.arpa");
		return w < 0 || (size_t)w >= cap ? MX_ESPACE : 0;
	}
	if (inet_pton(AF_INET6, addr, b) != 1)
		return MX_EINVAL;
	/* RFC 3596 §2.5, RFC 5782 §2.4: 32 nibbles, least significant first */
	for (int i = 15; i >= 0; i--) {
		w = snprintf(out + pos, cap - pos, "%x.%x.", b[i] & 0xf, b[i] >> 4);
		if (w < 0 || (size_t)w >= cap - pos)
			return MX_ESPACE;
		pos += (size_t)w;
	}
	w = snprintf(out + pos, cap - pos, "%s", suffix ? suffix : "ip6.arpa");
	return w < 0 || (size_t)w >= cap - pos ? MX_ESPACE : 0;
}

bool dc_addr_equal(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return false;
}

/* ---- MX ------------------------------------------------------------------ */

/* Whether the name's first four labels read as an IPv4 address:
 * "192.0.2.1" written absolute, or relative in a zone file and so
 * completed to "192.0.2.1.example.com"; or an address literal "[..]". */
static bool looks_like_ip(const char *host)
{
	const char *p = host;

	if (host[0] == '[' || strncmp(host, "\\[", 2) == 0 || strchr(host, ':') != NULL)
		return true;
	for (int i = 0; i < 4; i++) {
		unsigned v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p) && digits < 4) {
			v = v * 10 + (unsigned)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		if (i < 3 && *p++ != '.')
			return false;
	}
	return *p == '\0' || *p == '.';
}

static int mx_cmp(const void *a, const void *b)
{
	const struct dc_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

void dc_mx_eval(const char *const *rdata, size_t n, struct dc_mxset *set, struct dc_report *r)
{
	size_t nulls = 0, dropped = 0;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < n; i++) {
		char host[HOSTARG_MAX + 8];
		unsigned long pref;
		char *end;
		size_t len;
		struct dc_mx *m;

		pref = strtoul(rdata[i], &end, 10);
		if (end == rdata[i] || *end != ' ' || pref > 65535 ||
		    sscanf(end, " %261s", host) != 1) {
			dc_add(r, DC_MX, DC_FAIL, "MX record '%s' is not 'PREFERENCE HOST'",
			       rdata[i]);
			continue;
		}
		for (char *p = host; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		len = strlen(host);
		if (len > 1 && host[len - 1] == '.')
			host[--len] = '\0';
		if (strcmp(host, ".") == 0) {
			host[0] = '\0';
			len = 0;
		}
		if (len >= HOSTARG_MAX) {
			dc_add(r, DC_MX, DC_FAIL, "MX record '%s': the exchange name is too long",
			       rdata[i]);
			continue;
		}
		if (len == 0) {
			nulls++;
			/* RFC 7505 §3: the null MX has preference 0 */
			if (pref != 0)
				dc_add(r, DC_MX, DC_WARN,
				       "null MX with preference %lu; RFC 7505 §3 says 0", pref);
		}
		bool dup = false;
		for (size_t k = 0; k < set->n; k++)
			if (strcmp(set->mx[k].host, host) == 0) {
				dup = true;
				dc_add(r, DC_MX, DC_WARN,
				       "%s is listed twice (preferences %u and %lu): the duplicate "
				       "only adds a retry to the same host",
				       len ? host : ".", set->mx[k].pref, pref);
				if (pref < set->mx[k].pref)
					set->mx[k].pref = (unsigned)pref;
			}
		if (dup)
			continue;
		if (set->n == DC_MX_MAX) {
			dropped++;
			continue;
		}
		m = &set->mx[set->n++];
		m->pref = (unsigned)pref;
		memcpy(m->host, host, len + 1);
		m->ip_literal = len > 0 && looks_like_ip(host);
	}
	qsort(set->mx, set->n, sizeof(set->mx[0]), mx_cmp);
	if (nulls > 0 && set->n == 1) {
		set->null_mx = true;
		dc_add(r, DC_MX, DC_OK,
		       "null MX (RFC 7505): the domain accepts no mail, senders bounce at once");
		return;
	}
	if (nulls > 0)
		/* RFC 7505 §3: a domain with a null MX MUST NOT publish other MX */
		dc_add(r, DC_MX, DC_FAIL,
		       "a null MX ('0 .') beside other MX records: senders may treat the "
		       "domain as accepting no mail (RFC 7505 §3 forbids the mix)");
	for (size_t i = 0; i < set->n; i++) {
		const struct dc_mx *m = &set->mx[i];
		if (m->host[0] == '\0')
			continue;
		if (m->ip_literal)
			dc_add(r, DC_MX, DC_FAIL,
			       "MX %u %s is written as an address; an MX names a host with A/AAAA "
			       "records (RFC 5321 §5.1), senders look it up as a name and fail",
			       m->pref, m->host);
		else
			dc_add(r, DC_MX, DC_OK, "MX %u %s", m->pref, m->host);
	}
	if (dropped)
		dc_add(r, DC_MX, DC_WARN, "%zu more MX records not checked (over %d)", dropped,
		       DC_MX_MAX);
}

/* ---- DNSBL ------------------------------------------------------------- */

enum dc_bl_answer dc_bl_classify(const char *a)
{
	unsigned char b[4];

	if (inet_pton(AF_INET, a, b) != 1 || b[0] != 127)
		return DC_BL_BOGUS;
	/* RFC 5782 §2.1: 127.0.0.1 is never a listing code (it would look
	 * like localhost); lists use it to say "wildcard" or misconfiguration */
	if (b[1] == 0 && b[2] == 0 && b[3] == 1)
		return DC_BL_BOGUS;
	/* Spamhaus and others answer 127.255.255.x when they refuse a query
	 * (public resolver, over quota, bad name): not a listing. */
	if (b[1] == 255 && b[2] == 255)
		return DC_BL_ERROR;
	return DC_BL_LISTED;
}

/* ---- TLSA ---------------------------------------------------------------- */

void dc_tlsa_eval(const char *owner, const char *rdata, struct dc_report *r)
{
	unsigned usage, sel, match;
	int used = 0;
	size_t hex = 0;
	const char *p;
	static const char *usages[] = {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"};

	if (sscanf(rdata, "%u %u %u %n", &usage, &sel, &match, &used) != 3 || used == 0) {
		dc_add(r, DC_TLSA, DC_FAIL, "%s: TLSA '%s' is not 'USAGE SELECTOR MATCH DATA'",
		       owner, rdata);
		return;
	}
	for (p = rdata + used; *p; p++) {
		if (isxdigit((unsigned char)*p))
			hex++;
		else if (*p != ' ')
			break;
	}
	if (*p != '\0' || hex == 0 || hex % 2) {
		dc_add(r, DC_TLSA, DC_FAIL, "%s: TLSA data is not hexadecimal", owner);
		return;
	}
	if (usage > 3 || sel > 1 || match > 2) {
		/* RFC 6698 §2.1: unknown values make the record unusable */
		dc_add(r, DC_TLSA, DC_FAIL,
		       "%s: TLSA %u %u %u uses an unknown usage, selector or matching type "
		       "(RFC 6698 §2.1), senders ignore it",
		       owner, usage, sel, match);
		return;
	}
	if ((match == 1 && hex != 64) || (match == 2 && hex != 128)) {
		dc_add(r, DC_TLSA, DC_FAIL,
		       "%s: TLSA %u %u %u holds %zu bytes; SHA-%s gives %d (the record never "
		       "matches)",
		       owner, usage, sel, match, hex / 2, match == 1 ? "256" : "512",
		       match == 1 ? 32 : 64);
		return;
	}
	if (usage < 2)
		/* RFC 7672 §3.1.3: SMTP clients treat PKIX-TA/EE as unusable */
		dc_add(r, DC_TLSA, DC_WARN,
		       "%s: TLSA usage %u (%s) is not used by SMTP senders (RFC 7672 §3.1.3); "
		       "publish DANE-EE (3) or DANE-TA (2)",
		       owner, usage, usages[usage]);
	else
		dc_add(r, DC_TLSA, DC_OK, "%s: TLSA %u %u %u (%s)", owner, usage, sel, match,
		       usages[usage]);
}

/* ---- DMARC --------------------------------------------------------------- */

/* Whether a and b are the same domain or one is under the other. */
static bool related(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la < lb) {
		const char *t = a;
		size_t tl = la;
		a = b;
		la = lb;
		b = t;
		lb = tl;
	}
	/* a is the longer name: b must be a's tail on a label boundary */
	return strcasecmp(a + la - lb, b) == 0 && (la == lb || a[la - lb - 1] == '.');
}

void dc_dmarc_eval(const char *domain, const char *value, size_t len, struct dc_report *r,
		   char ext[][HOSTARG_MAX], size_t *next)
{
	struct findings f;
	struct txtrec_tags tags;
	const struct txtrec_tag *t;

	*next = 0;
	memset(&tags, 0, sizeof(tags));
	findings_init(&f);
	if (dmarc_lint(value, len, &f) == -ENOMEM)
		dc_add(r, DC_DMARC, DC_FAIL, "out of memory linting the record");
	dc_add_findings(r, DC_DMARC, &f, NULL);
	if (findings_count(&f, FINDING_ERROR) > 0 ||
	    txtrec_tags_parse(value, len, &tags) != 0)
		goto out;

	/* dmarc_lint already warns on p=none and notes a missing rua= */
	t = txtrec_tags_get(&tags, "p");
	if (t != NULL && strcasecmp(t->value, "none") != 0)
		dc_add(r, DC_DMARC, DC_OK, "policy p=%s", t->value);
	t = txtrec_tags_get(&tags, "sp");
	if (t != NULL)
		dc_add(r, DC_DMARC, strcasecmp(t->value, "none") == 0 ? DC_WARN : DC_OK,
		       "subdomain policy sp=%s", t->value);
	t = txtrec_tags_get(&tags, "pct");
	if (t != NULL && strcmp(t->value, "100") != 0)
		dc_add(r, DC_DMARC, DC_WARN,
		       "pct=%s: the policy applies to part of the failing mail only", t->value);

	t = txtrec_tags_get(&tags, "rua");
	if (t == NULL)
		goto out;
	dc_add(r, DC_DMARC, DC_OK, "aggregate reports to %s", t->value);
	for (const char *p = t->value; *p;) {
		size_t n = strcspn(p, ",");
		char dom[HOSTARG_MAX], err[128];
		/* trim the URI's surrounding whitespace */
		const char *s = p;
		size_t sl = n;
		while (sl && (*s == ' ' || *s == '\t')) {
			s++;
			sl--;
		}
		while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t'))
			sl--;
		if (sl >= 7 && strncasecmp(s, "mailto:", 7) == 0 &&
		    mailuri_check(s, sl, MAILURI_SIZE, dom, err, sizeof(err)) == 0 &&
		    !related(dom, domain)) {
			bool seen = false;
			for (size_t k = 0; k < *next; k++)
				seen = seen || strcasecmp(ext[k], dom) == 0;
			if (!seen && *next < DC_RUA_MAX)
				memcpy(ext[(*next)++], dom, strlen(dom) + 1);
		}
		p += n;
		if (*p == ',')
			p++;
	}
out:
	txtrec_tags_cleanup(&tags);
}

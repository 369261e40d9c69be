/* domaincheck: the pure parts of `mxdns check` (tools/check.c does the
 * lookups): the report (lines of OK/INFO/WARN/FAIL grouped by section,
 * printed as text or JSON), reverse names for PTR and DNSBL queries, and
 * the evaluation of what DNS returned (an MX set, a DNSBL answer code, a
 * TLSA record, a DMARC policy) into report lines. No DNS, no files, no
 * globals, so every rule is unit-tested with strings. */
#ifndef MXDNS_DOMAINCHECK_H
#define MXDNS_DOMAINCHECK_H

#include "hostarg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct findings;
struct json;

/* ---- the report --------------------------------------------------------- */

enum dc_section {
	DC_MX,
	DC_SPF,
	DC_DKIM,
	DC_DMARC,
	DC_MTASTS,
	DC_TLSRPT,
	DC_TLSA,
	DC_DNSBL,
	DC_NSECTIONS,
};

enum dc_level { DC_OK, DC_INFO, DC_WARN, DC_FAIL };

struct dc_line {
	enum dc_section section;
	enum dc_level level;
	char *text;
};

struct dc_report {
	struct dc_line *line;
	size_t n, cap;
	bool oom; /* a line was lost to malloc failure (counted as a FAIL) */
};

void dc_report_init(struct dc_report *r);
void dc_report_cleanup(struct dc_report *r);
void dc_add(struct dc_report *r, enum dc_section s, enum dc_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A linter's findings as lines: errors FAIL, warnings WARN, notes INFO;
 * prefix (may be NULL) goes before each ("sel1: ..."). */
void dc_add_findings(struct dc_report *r, enum dc_section s, const struct findings *f,
		     const char *prefix);
size_t dc_count(const struct dc_report *r, enum dc_level level);
/* Whether a line of section s at level contains needle. */
bool dc_has(const struct dc_report *r, enum dc_section s, enum dc_level level,
	    const char *needle);
/* The worst level of a section (DC_OK when it has no line). */
enum dc_level dc_section_level(const struct dc_report *r, enum dc_section s);

const char *dc_section_name(enum dc_section s); /* "MX", "SPF", ... */
const char *dc_level_name(enum dc_level level); /* "OK", "INFO", "WARN", "FAIL" */

/* The report as text, section by section (a section without lines is
 * SKIPPED), then a summary line. */
void dc_report_print(const struct dc_report *r, FILE *out, const char *domain);
/* The report as one JSON object: domain, ok, counts, sections [ {name,
 * status, lines [ {status, text} ] } ]. Leaves the object open so the
 * caller can add keys; the caller ends it. */
void dc_report_json(const struct dc_report *r, struct json *j, const char *domain);

/* ---- names -------------------------------------------------------------- */

/* The reverse name of an address for PTR (suffix NULL: in-addr.arpa or
 * ip6.arpa) or a DNSBL (suffix the list's zone): reversed octets for IPv4,
 * reversed nibbles for IPv6 (RFC 5782 §2.1, §2.4), no final dot.
 * Returns 0, MX_EINVAL (addr is no IPv4 or IPv6 literal) or MX_ESPACE. */
int dc_rev_name(const char *addr, const char *suffix, char *out, size_t cap);

/* Whether two address texts are the same address (2001:db8::1 equals
 * 2001:DB8:0::1). False when either is not an address. */
bool dc_addr_equal(const char *a, const char *b);

/* ---- MX ------------------------------------------------------------------ */

#define DC_MX_MAX 32

struct dc_mx {
	unsigned pref;
	char host[HOSTARG_MAX]; /* lowercase, no final dot; "" for the null MX */
	bool ip_literal;        /* the exchange is written as an address */
};

struct dc_mxset {
	size_t n;
	struct dc_mx mx[DC_MX_MAX]; /* sorted by preference, duplicates dropped */
	bool null_mx;               /* RFC 7505: "0 ." alone */
};

/* Evaluates MX rdata in presentation format ("10 mx1.example.com.") into
 * set and lines of section MX: each exchange (OK), the null MX (RFC 7505
 * §3, alone and at preference 0), duplicates, exchanges written as IP
 * literals (RFC 5321 §5.1 wants a host name), unparsable rdata. The
 * exchanges worth resolving are set->mx[] with ip_literal false. */
void dc_mx_eval(const char *const *rdata, size_t n, struct dc_mxset *set,
		struct dc_report *r);

/* ---- DNSBL ------------------------------------------------------------- */

enum dc_bl_answer {
	DC_BL_LISTED,  /* 127.0.0.2 .. 127.255.255.x below the error band */
	DC_BL_ERROR,   /* 127.255.255.0/24: the list refused or failed the query */
	DC_BL_BOGUS,   /* not in 127.0.0.0/8, or 127.0.0.1 (RFC 5782 §2.1) */
};

/* What an A answer of a DNSBL query means. */
enum dc_bl_answer dc_bl_classify(const char *a);

/* ---- TLSA / DMARC --------------------------------------------------------- */

/* One TLSA rdata ("3 1 1 <hex>") at owner, as lines of section TLSA:
 * usage, selector and matching type known, the data's length right for
 * the matching type; PKIX usages 0 and 1 warned (RFC 7672 §3.1.3). */
void dc_tlsa_eval(const char *owner, const char *rdata, struct dc_report *r);

#define DC_RUA_MAX 8

/* A DMARC record value for domain, as lines of section DMARC: the
 * linter's findings (dmarc_lint: p=none warned, missing rua= noted), the
 * policy, sp=none, pct below 100, and the rua= addresses. The rua addresses outside domain need the other
 * domain's consent (RFC 7489 §7.1); their domains go to ext (HOSTARG_MAX
 * each, at most DC_RUA_MAX), their count to *next. */
void dc_dmarc_eval(const char *domain, const char *value, size_t len, struct dc_report *r,
		   char ext[][HOSTARG_MAX], size_t *next);

#endif

/* spf: the Sender Policy Framework engine (RFC 7208). A pure library: it
 * parses records into typed terms, expands macros into bounded buffers,
 * evaluates check_host() and lints records. All DNS goes through a
 * caller-supplied struct spf_resolver, so the engine runs against a mock in
 * tests and against ldns (tools/spfdns.h) in the tool. No global state;
 * every function is reentrant.
 *
 * Errors: functions returning int return 0 or a zones/errcode.h code
 * (MX_ESYNTAX, MX_ESPACE, MX_EINVAL, MX_ELIMIT, -ENOMEM). */
#ifndef MXDNS_SPF_H
#define MXDNS_SPF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* RFC 7208 §4.6.4 */
#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOIDS 2
#define SPF_MAX_MX 10
#define SPF_MAX_PTR 10
/* Longest domain name in text form (RFC 7208 §7.3 truncation target). */
#define SPF_DOMAIN_MAX 253
/* Macro expansion buffers: an explanation is cut here; a domain keeps its
 * right-hand 253 bytes whatever the expansion's length. */
#define SPF_EXPAND_MAX 1024

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* "pass", "fail", ...; never NULL. */
const char *spf_result_name(enum spf_result r);
/* Inverse of spf_result_name (case-insensitive); -1 if unknown. */
int spf_result_from_name(const char *name);

/* ---- DNS interface ---------------------------------------------------- */

enum spf_dns_status {
	SPF_DNS_OK = 0,   /* NOERROR, with zero or more records */
	SPF_DNS_NXDOMAIN, /* RCODE 3 */
	SPF_DNS_TEMPFAIL, /* timeout, SERVFAIL, anything else */
};

struct spf_rr {
	char *text; /* TXT: the strings concatenated (RFC 7208 §3.3);
	               MX/PTR: the target name; NULL for A/AAAA */
	size_t len; /* bytes in text */
	int af;     /* A/AAAA: AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t pref; /* MX preference */
};

/* A resolver answer: records of the queried type, in the order received.
 * The engine owns it; resolvers fill it with the spf_answer_add_*() calls. */
struct spf_answer {
	struct spf_rr *rr;
	size_t n, cap;
};

void spf_answer_init(struct spf_answer *a);
void spf_answer_cleanup(struct spf_answer *a);
int spf_answer_add_text(struct spf_answer *a, const char *text, size_t len);
/* Append to the last text record (a TXT record's further strings). */
int spf_answer_append_text(struct spf_answer *a, const char *text, size_t len);
int spf_answer_add_addr(struct spf_answer *a, int af, const void *addr);
int spf_answer_add_name(struct spf_answer *a, uint16_t pref, const char *name);

/* One callback per query type. name is a domain in text form without
 * escapes (it may hold any byte a macro put there, and no trailing dot);
 * PTR gets the reverse name (…in-addr.arpa / …ip6.arpa). Each returns an
 * enum spf_dns_status and adds the answer's records to out. spf (type 99,
 * deprecated) may be NULL; only lint uses it. */
typedef int (*spf_query_fn)(void *ctx, const char *name, struct spf_answer *out);
struct spf_resolver {
	void *ctx;
	spf_query_fn txt, a, aaaa, mx, ptr, spf;
};

/* ---- records ---------------------------------------------------------- */

enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
};

enum spf_term_kind {
	SPF_T_MECH,
	SPF_T_REDIRECT,
	SPF_T_EXP,
	SPF_T_MODIFIER, /* unknown modifier: kept, ignored (RFC 7208 §6) */
};

struct spf_term {
	enum spf_term_kind kind;
	enum spf_mech mech;
	char qual;        /* '+', '-', '~' or '?' (mechanisms) */
	char *text;       /* the term as written */
	size_t pos;       /* byte offset of the term in the record */
	char *domain;     /* domain-spec or macro-string, unexpanded; NULL if absent */
	char *name;       /* unknown modifier's name */
	int cidr4, cidr6; /* prefix lengths; 32/128 when absent */
	int af;           /* ip4/ip6: the network */
	uint8_t addr[16];
};

struct spf_record {
	struct spf_term *terms;
	size_t n;
	const struct spf_term *redirect, *exp; /* NULL if absent */
};

/* Whether text (len bytes) is an SPF version 1 record: "v=spf1" (any case)
 * followed by a space or its end (RFC 7208 §4.5). */
int spf_is_spf1(const char *text, size_t len);

/* Parse a whole record (starting with v=spf1). On MX_ESYNTAX err (if not
 * NULL) holds a message naming the term and its offset. */
int spf_record_parse(const char *text, size_t len, struct spf_record **out, char *err,
                     size_t errlen);
void spf_record_free(struct spf_record *r);

/* Number of terms that cost a DNS lookup (RFC 7208 §4.6.4): include, a, mx,
 * ptr, exists and redirect, in this record only. */
int spf_record_lookup_terms(const struct spf_record *r);

/* ---- macros (RFC 7208 §7) --------------------------------------------- */

struct spf_macro_vars {
	const char *sender;        /* s: local-part@domain */
	const char *local;         /* l */
	const char *sender_domain; /* o */
	const char *domain;        /* d */
	const char *helo;          /* h */
	const char *ptr;           /* p: validated name, or NULL for "unknown" */
	const char *receiver;      /* r (explanations only); NULL: "unknown" */
	time_t now;                /* t (explanations only) */
	int af;                    /* i, c, v */
	uint8_t ip[16];
};

enum {
	SPF_MACRO_EXP = 1,    /* explanation text: c, r, t allowed */
	SPF_MACRO_DOMAIN = 2, /* a domain for a query: keep the right-hand
	                         253 bytes, drop whole labels (§7.3) */
};

/* Check a macro-string's syntax without expanding it. */
int spf_macro_check(const char *spec, size_t len, int flags);
/* Whether the spec contains %{p} (which needs DNS before expanding). */
int spf_macro_uses_p(const char *spec, size_t len);

/* Expand spec into out (cap bytes, NUL-terminated). Every write is bounded:
 * without SPF_MACRO_DOMAIN output beyond cap-1 bytes is cut off (and
 * *truncated set); with it the left side is dropped. Returns MX_ESYNTAX for
 * a malformed macro, MX_EINVAL for cap < 2. */
int spf_macro_expand(const struct spf_macro_vars *v, const char *spec, size_t len, int flags,
                     char *out, size_t cap, int *truncated);

/* ---- check_host() (RFC 7208 §4) --------------------------------------- */

struct spf_request {
	const char *ip;             /* client address, IPv4 or IPv6 text */
	const char *sender;         /* MAIL FROM; "" or NULL: postmaster@helo */
	const char *helo;           /* HELO/EHLO name; may be NULL */
	const char *domain;         /* NULL: the sender's domain */
	const char *receiver;       /* %{r}; NULL: "unknown" */
	time_t now;                 /* %{t}; 0: time(NULL) */
	const char *default_exp;    /* explanation when the record has none */
	int max_lookups, max_voids; /* 0: the RFC's 10 and 2 */
};

struct spf_outcome {
	enum spf_result result;
	char explanation[SPF_EXPAND_MAX];     /* fail only; may be empty */
	char mechanism[256];                  /* the term that decided, as written ("" if none) */
	char mech_domain[SPF_DOMAIN_MAX + 1]; /* the domain whose record held it */
	char reason[256];                     /* why, for errors and none */
	int lookups, voids;
};

/* Evaluate. Returns 0 with out filled in for every SPF result; MX_EINVAL
 * only if the request itself is unusable (bad IP). */
int spf_check_host(const struct spf_resolver *res, const struct spf_request *req,
                   struct spf_outcome *out);

/* ---- lint --------------------------------------------------------------- */

enum spf_lint_level { SPF_LINT_INFO, SPF_LINT_WARNING, SPF_LINT_ERROR };

#define SPF_LINT_MAX_ITEMS 64

struct spf_lint_item {
	enum spf_lint_level level;
	char msg[320];
};

struct spf_lint {
	struct spf_lint_item items[SPF_LINT_MAX_ITEMS];
	size_t n;
	int errors, warnings;
	int lookups;       /* DNS-costing terms, through includes and redirects */
	int voids;         /* void lookups found while counting */
	char record[2048]; /* the record linted (from DNS for a domain) */
};

/* Lint a record text. res may be NULL (no recursion: includes and
 * redirects are counted once, their targets not fetched). domain names the
 * record's owner for a/mx/ptr without argument (may be NULL). */
int spf_lint_record(const struct spf_resolver *res, const char *domain, const char *text,
                    size_t len, struct spf_lint *out);
/* Fetch domain's TXT (and SPF RR) records and lint what is published. */
int spf_lint_domain(const struct spf_resolver *res, const char *domain, struct spf_lint *out);

/* ---- build -------------------------------------------------------------- */

struct spf_build {
	int mx, a, ptr;
	const char **ip4, **ip6, **include, **exists; /* each n_* entries */
	size_t n_ip4, n_ip6, n_include, n_exists;
	const char *redirect;
	char all; /* '-', '~', '?', '+' or 0 for none */
};

/* Assemble a record from the options, checked by parsing it back. Refuses
 * (MX_ELIMIT) a record with more than 10 lookup terms of its own; out
 * then still holds it, for a caller's --force. err says why on failure. */
int spf_build_record(const struct spf_build *b, char *out, size_t cap, char *err, size_t errlen);

#endif

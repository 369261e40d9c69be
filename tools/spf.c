/* spf: RFC 7208 record parsing, macro expansion, check_host(), lint and
 * build. See spf.h for the contracts. The command line lives in spfcmd.c,
 * the ldns resolver in spfdns.c. */
#include "spf.h"
#include "errcode.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const result_names[] = {
    [SPF_NONE] = "none",           [SPF_NEUTRAL] = "neutral",   [SPF_PASS] = "pass",
    [SPF_FAIL] = "fail",           [SPF_SOFTFAIL] = "softfail", [SPF_TEMPERROR] = "temperror",
    [SPF_PERMERROR] = "permerror",
};

const char *spf_result_name(enum spf_result r)
{
	if ((unsigned)r >= sizeof(result_names) / sizeof(result_names[0]))
		return "unknown";
	return result_names[r];
}

int spf_result_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
		if (strcasecmp(name, result_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- answers ------------------------------------------------------------ */

void spf_answer_init(struct spf_answer *a)
{
	memset(a, 0, sizeof(*a));
}

void spf_answer_cleanup(struct spf_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->rr[i].text);
	free(a->rr);
	memset(a, 0, sizeof(*a));
}

static struct spf_rr *answer_push(struct spf_answer *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct spf_rr *rr = realloc(a->rr, cap * sizeof(*rr));
		if (!rr)
			return NULL;
		a->rr = rr;
		a->cap = cap;
	}
	struct spf_rr *r = &a->rr[a->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static char *memdup0(const char *p, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

int spf_answer_add_text(struct spf_answer *a, const char *text, size_t len)
{
	char *s = memdup0(text, len);
	if (!s)
		return -ENOMEM;
	struct spf_rr *r = answer_push(a);
	if (!r) {
		free(s);
		return -ENOMEM;
	}
	r->text = s;
	r->len = len;
	return 0;
}

int spf_answer_append_text(struct spf_answer *a, const char *text, size_t len)
{
	if (a->n == 0 || !a->rr[a->n - 1].text)
		return spf_answer_add_text(a, text, len);
	struct spf_rr *r = &a->rr[a->n - 1];
	char *s = realloc(r->text, r->len + len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s + r->len, text, len);
	r->len += len;
	s[r->len] = '\0';
	r->text = s;
	return 0;
}

int spf_answer_add_addr(struct spf_answer *a, int af, const void *addr)
{
	if (af != AF_INET && af != AF_INET6)
		return MX_EINVAL;
	struct spf_rr *r = answer_push(a);
	if (!r)
		return -ENOMEM;
	r->af = af;
	memcpy(r->addr, addr, af == AF_INET ? 4 : 16);
	return 0;
}

int spf_answer_add_name(struct spf_answer *a, uint16_t pref, const char *name)
{
	int rc = spf_answer_add_text(a, name, strlen(name));
	if (rc == 0)
		a->rr[a->n - 1].pref = pref;
	return rc;
}

/* ---- small helpers ------------------------------------------------------ */

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy with truncation; always NUL-terminates. */
static void scopy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* Does name equal suffix, or end in "." suffix? (case-insensitive) */
static int name_under(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (n == s)
		return strcasecmp(name, suffix) == 0;
	if (n > s && name[n - s - 1] == '.')
		return strcasecmp(name + n - s, suffix) == 0;
	return 0;
}

/* Drop one trailing dot in place. */
static void strip_dot(char *name)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[n - 1] = '\0';
}

static int ip_match(int af, const uint8_t *a, const uint8_t *b, int bits)
{
	int max = af == AF_INET ? 32 : 128;
	if (bits > max)
		bits = max;
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* ---- macros (RFC 7208 §7) ---------------------------------------------- */

struct macro_tok {
	int kind;    /* 0 literal, 1 %{...}, 2 escape (%% %_ %-) */
	char c;      /* literal or escape char */
	char letter; /* lowercase macro letter */
	int upper;   /* URL-escape the result (§7.3) */
	int digits;  /* 0 = all parts */
	int reverse;
	char delims[8];
	int ndelims;
};

/* Read one token of a macro-string at *i. Returns 0 or MX_ESYNTAX. */
static int macro_next(const char *s, size_t len, size_t *i, int flags, struct macro_tok *t)
{
	size_t p = *i;
	unsigned char c = (unsigned char)s[p];
	memset(t, 0, sizeof(*t));
	if (c != '%') {
		/* macro-literal = %x21-24 / %x26-7E; explain-string adds SP */
		if (!((c >= 0x21 && c <= 0x7e) || (c == ' ' && (flags & SPF_MACRO_EXP))))
			return MX_ESYNTAX;
		t->kind = 0;
		t->c = (char)c;
		*i = p + 1;
		return 0;
	}
	if (p + 1 >= len)
		return MX_ESYNTAX;
	c = (unsigned char)s[p + 1];
	if (c == '%' || c == '_' || c == '-') {
		t->kind = 2;
		t->c = (char)c;
		*i = p + 2;
		return 0;
	}
	if (c != '{')
		return MX_ESYNTAX;
	p += 2;
	if (p >= len)
		return MX_ESYNTAX;
	char l = s[p];
	t->upper = l >= 'A' && l <= 'Z';
	l = (char)tolower((unsigned char)l);
	if (!strchr("slodiphv", l) || l == '\0') {
		if (!(flags & SPF_MACRO_EXP) || !strchr("crt", l) || l == '\0')
			return MX_ESYNTAX;
	}
	t->kind = 1;
	t->letter = l;
	p++;
	int ndig = 0;
	long val = 0;
	while (p < len && is_digit(s[p])) {
		if (val < 1000)
			val = val * 10 + (s[p] - '0');
		ndig++;
		p++;
	}
	/* §7.1: if a DIGIT is given it MUST be nonzero */
	if (ndig > 0 && val == 0)
		return MX_ESYNTAX;
	t->digits = (int)val;
	if (p < len && (s[p] == 'r' || s[p] == 'R')) {
		t->reverse = 1;
		p++;
	}
	while (p < len && strchr(".-+,/_=", s[p]) && s[p] != '\0') {
		if (!memchr(t->delims, s[p], (size_t)t->ndelims) && t->ndelims < 7)
			t->delims[t->ndelims++] = s[p];
		p++;
	}
	if (p >= len || s[p] != '}')
		return MX_ESYNTAX;
	*i = p + 1;
	return 0;
}

int spf_macro_check(const char *spec, size_t len, int flags)
{
	struct macro_tok t;
	for (size_t i = 0; i < len;)
		if (macro_next(spec, len, &i, flags, &t) != 0)
			return MX_ESYNTAX;
	return 0;
}

int spf_macro_uses_p(const char *spec, size_t len)
{
	struct macro_tok t;
	for (size_t i = 0; i < len;) {
		if (macro_next(spec, len, &i, SPF_MACRO_EXP, &t) != 0)
			return 0;
		if (t.kind == 1 && t.letter == 'p')
			return 1;
	}
	return 0;
}

/* Output buffer: keeps the head (explanations) or the tail (domains). */
struct obuf {
	char *p;
	size_t cap, len;
	int tail, trunc;
};

static void ob_putc(struct obuf *o, char c)
{
	if (o->len + 1 < o->cap) {
		o->p[o->len++] = c;
		return;
	}
	o->trunc = 1;
	if (!o->tail)
		return;
	size_t drop = o->len / 2 ? o->len / 2 : 1;
	memmove(o->p, o->p + drop, o->len - drop);
	o->len -= drop;
	o->p[o->len++] = c;
}

static void ob_put_escaped(struct obuf *o, const char *s, size_t n, int url)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* §7.3: uppercase macros escape all but RFC 3986 unreserved */
		if (url && !(is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
			ob_putc(o, '%');
			ob_putc(o, hex[c >> 4]);
			ob_putc(o, hex[c & 15]);
		} else {
			ob_putc(o, (char)c);
		}
	}
}

/* Part k (0-based) of v split on delims: sets *start and *plen. */
static void nth_part(const char *v, size_t vlen, const char *delims, int nd, size_t k,
                     size_t *start, size_t *plen)
{
	size_t idx = 0, b = 0;
	for (size_t i = 0; i <= vlen; i++) {
		if (i == vlen || memchr(delims, v[i], (size_t)nd)) {
			if (idx == k) {
				*start = b;
				*plen = i - b;
				return;
			}
			idx++;
			b = i + 1;
		}
	}
	*start = vlen;
	*plen = 0;
}

/* §7.3 transformers: split on delimiters, optionally reverse, keep the
 * right-hand `digits` parts, join with ".". Never more than vlen parts. */
static void put_transformed(struct obuf *o, const char *v, size_t vlen, const struct macro_tok *t)
{
	const char *delims = t->ndelims ? t->delims : ".";
	int nd = t->ndelims ? t->ndelims : 1;
	size_t parts = 1;
	for (size_t i = 0; i < vlen; i++)
		if (memchr(delims, v[i], (size_t)nd))
			parts++;
	size_t take = t->digits > 0 && (size_t)t->digits < parts ? (size_t)t->digits : parts;
	for (size_t j = 0; j < take; j++) {
		/* reversed list position parts-take+j is original index take-1-j */
		size_t k = t->reverse ? take - 1 - j : parts - take + j;
		size_t st, pl;
		nth_part(v, vlen, delims, nd, k, &st, &pl);
		if (j > 0)
			ob_putc(o, '.');
		ob_put_escaped(o, v + st, pl, t->upper);
	}
}

static void ip_dotted(const struct spf_macro_vars *v, char *buf, size_t cap)
{
	if (v->af == AF_INET) {
		inet_ntop(AF_INET, v->ip, buf, (socklen_t)cap);
		return;
	}
	/* §7.3: IPv6 "i" is the dot-format nibbles, as in ip6.arpa */
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (int i = 0; i < 16 && n + 4 <= cap; i++) {
		buf[n++] = hex[v->ip[i] >> 4];
		buf[n++] = '.';
		buf[n++] = hex[v->ip[i] & 15];
		buf[n++] = '.';
	}
	buf[n ? n - 1 : 0] = '\0';
}

int spf_macro_expand(const struct spf_macro_vars *v, const char *spec, size_t len, int flags,
                     char *out, size_t cap, int *truncated)
{
	if (!out || cap < 2)
		return MX_EINVAL;
	struct obuf o = {.p = out, .cap = cap, .tail = (flags & SPF_MACRO_DOMAIN) != 0};
	struct macro_tok t;
	char tmp[80];
	int rc = 0;
	for (size_t i = 0; i < len;) {
		rc = macro_next(spec, len, &i, flags, &t);
		if (rc != 0)
			goto fail;
		if (t.kind == 0) {
			ob_putc(&o, t.c);
			continue;
		}
		if (t.kind == 2) {
			if (t.c == '%')
				ob_putc(&o, '%');
			else if (t.c == '_')
				ob_putc(&o, ' ');
			else
				ob_put_escaped(&o, "%20", 3, 0);
			continue;
		}
		const char *val = "";
		switch (t.letter) {
		case 's':
			val = v->sender;
			break;
		case 'l':
			val = v->local;
			break;
		case 'o':
			val = v->sender_domain;
			break;
		case 'd':
			val = v->domain;
			break;
		case 'h':
			val = v->helo;
			break;
		case 'p':
			val = v->ptr ? v->ptr : "unknown";
			break;
		case 'r':
			val = v->receiver ? v->receiver : "unknown";
			break;
		case 'v':
			val = v->af == AF_INET ? "in-addr" : "ip6";
			break;
		case 'i':
			ip_dotted(v, tmp, sizeof(tmp));
			val = tmp;
			break;
		case 'c':
			if (!inet_ntop(v->af == AF_INET ? AF_INET : AF_INET6, v->ip, tmp,
			               sizeof(tmp)))
				tmp[0] = '\0';
			val = tmp;
			break;
		case 't':
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v->now);
			val = tmp;
			break;
		}
		if (!val)
			val = "";
		put_transformed(&o, val, strlen(val), &t);
	}
	out[o.len] = '\0';
	if (flags & SPF_MACRO_DOMAIN) {
		/* §7.3: over 253 characters, drop labels from the left */
		char *s = out;
		size_t n = o.len;
		if (n > 0 && s[n - 1] == '.')
			n--;
		while (n > SPF_DOMAIN_MAX) {
			char *dot = memchr(s, '.', n);
			if (!dot) {
				s += n - SPF_DOMAIN_MAX;
				n = SPF_DOMAIN_MAX;
				break;
			}
			n -= (size_t)(dot + 1 - s);
			s = dot + 1;
		}
		if (s != out) {
			memmove(out, s, strlen(s) + 1);
			o.trunc = 1;
		}
	}
	if (truncated)
		*truncated = o.trunc;
	return 0;
fail:
	out[0] = '\0';
	return rc;
}

/* ---- record parsing ------------------------------------------------------ */

int spf_is_spf1(const char *text, size_t len)
{
	return len >= 6 && strncasecmp(text, "v=spf1", 6) == 0 && (len == 6 || text[6] == ' ');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel_ok(const char *s, size_t n)
{
	int alpha = 0, hyphen = 0;
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (is_alpha(s[i]))
			alpha = 1;
		else if (s[i] == '-')
			hyphen = 1;
		else if (!is_digit(s[i]))
			return 0;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
static int domain_spec_check(const char *s, size_t len)
{
	struct macro_tok t;
	size_t lit = 0;
	if (len == 0)
		return MX_ESYNTAX;
	for (size_t i = 0; i < len;) {
		if (macro_next(s, len, &i, 0, &t) != 0)
			return MX_ESYNTAX;
		if (t.kind != 0)
			lit = i;
	}
	if (lit == len)
		return 0;
	size_t end = len;
	if (end > lit + 1 && s[end - 1] == '.')
		end--;
	const char *dot = NULL;
	for (size_t i = end; i > lit; i--)
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	if (!dot)
		return MX_ESYNTAX;
	return toplabel_ok(dot + 1, (size_t)(s + end - dot - 1)) ? 0 : MX_ESYNTAX;
}

/* "0" / %x31-39 0*N DIGIT, at most max */
static int cidr_value(const char *s, size_t n, int max)
{
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Split a trailing dual-cidr-length off arg[0..*len): "/N", "//N", "/N//M". */
static int take_dual_cidr(const char *arg, size_t *len, int *c4, int *c6)
{
	size_t n = *len;
	for (int round = 0; round < 2; round++) {
		size_t d = n;
		while (d > 0 && is_digit(arg[d - 1]))
			d--;
		if (d == n || d == 0 || arg[d - 1] != '/')
			break;
		if (d >= 2 && arg[d - 2] == '/') {
			if (round > 0 || *c6 >= 0)
				return MX_ESYNTAX;
			*c6 = cidr_value(arg + d, n - d, 128);
			if (*c6 < 0)
				return MX_ESYNTAX;
			n = d - 2;
		} else {
			*c4 = cidr_value(arg + d, n - d, 32);
			if (*c4 < 0)
				return MX_ESYNTAX;
			n = d - 1;
			break;
		}
	}
	*len = n;
	return 0;
}

static int parse_term(const char *t, size_t tl, struct spf_term *term, struct spf_record *rec,
                      const char **why)
{
	size_t p = 0;
	int explicit_q = 0;
	term->qual = '+';
	term->cidr4 = -1;
	term->cidr6 = -1;
	if (strchr("+-~?", t[0])) {
		term->qual = t[0];
		explicit_q = 1;
		p = 1;
	}
	size_t ns = p;
	if (p >= tl || !is_alpha(t[p])) {
		*why = "a term must start with a mechanism or modifier name";
		return MX_ESYNTAX;
	}
	while (p < tl && (is_alnum(t[p]) || t[p] == '-' || t[p] == '_' || t[p] == '.'))
		p++;
	size_t nl = p - ns;
	const char *name = t + ns;
	const char *arg = t + p;
	size_t al = tl - p;

	if (p < tl && t[p] == '=') {
		if (explicit_q) {
			*why = "a modifier takes no qualifier";
			return MX_ESYNTAX;
		}
		arg++;
		al--;
		if (nl == 8 && strncasecmp(name, "redirect", 8) == 0) {
			term->kind = SPF_T_REDIRECT;
			if (rec->redirect) {
				*why = "redirect= given twice (RFC 7208 §6)";
				return MX_ESYNTAX;
			}
		} else if (nl == 3 && strncasecmp(name, "exp", 3) == 0) {
			term->kind = SPF_T_EXP;
			if (rec->exp) {
				*why = "exp= given twice (RFC 7208 §6)";
				return MX_ESYNTAX;
			}
		} else {
			term->kind = SPF_T_MODIFIER;
			if (spf_macro_check(arg, al, 0) != 0) {
				*why = "bad macro-string in modifier value";
				return MX_ESYNTAX;
			}
			term->name = memdup0(name, nl);
			term->domain = memdup0(arg, al);
			return term->name && term->domain ? 0 : -ENOMEM;
		}
		if (domain_spec_check(arg, al) != 0) {
			*why = "bad domain-spec";
			return MX_ESYNTAX;
		}
		term->domain = memdup0(arg, al);
		return term->domain ? 0 : -ENOMEM;
	}

	term->kind = SPF_T_MECH;
	static const struct {
		const char *name;
		enum spf_mech m;
	} mechs[] = {{"all", SPF_M_ALL}, {"include", SPF_M_INCLUDE}, {"a", SPF_M_A},
	             {"mx", SPF_M_MX},   {"ptr", SPF_M_PTR},         {"ip4", SPF_M_IP4},
	             {"ip6", SPF_M_IP6}, {"exists", SPF_M_EXISTS}};
	size_t k;
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (strlen(mechs[k].name) == nl && strncasecmp(mechs[k].name, name, nl) == 0)
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0])) {
		*why = "unknown mechanism";
		return MX_ESYNTAX;
	}
	term->mech = mechs[k].m;
	switch (term->mech) {
	case SPF_M_ALL:
		if (al != 0) {
			*why = "all takes no argument";
			return MX_ESYNTAX;
		}
		break;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		if (al < 2 || arg[0] != ':' || domain_spec_check(arg + 1, al - 1) != 0) {
			*why = "needs ':' and a valid domain-spec";
			return MX_ESYNTAX;
		}
		term->domain = memdup0(arg + 1, al - 1);
		if (!term->domain)
			return -ENOMEM;
		break;
	case SPF_M_A:
	case SPF_M_MX:
	case SPF_M_PTR:
		if (al > 0 && arg[0] != ':' && (arg[0] != '/' || term->mech == SPF_M_PTR)) {
			*why = "unexpected text after the mechanism name";
			return MX_ESYNTAX;
		}
		if (term->mech != SPF_M_PTR &&
		    take_dual_cidr(arg, &al, &term->cidr4, &term->cidr6) != 0) {
			*why = "bad CIDR length";
			return MX_ESYNTAX;
		}
		if (al > 0) {
			if (arg[0] != ':' || domain_spec_check(arg + 1, al - 1) != 0) {
				*why = "bad domain-spec";
				return MX_ESYNTAX;
			}
			term->domain = memdup0(arg + 1, al - 1);
			if (!term->domain)
				return -ENOMEM;
		}
		break;
	case SPF_M_IP4:
	case SPF_M_IP6: {
		char buf[64];
		int v6 = term->mech == SPF_M_IP6;
		if (al < 2 || arg[0] != ':') {
			*why = "needs ':' and an address";
			return MX_ESYNTAX;
		}
		arg++;
		al--;
		const char *slash = memchr(arg, '/', al);
		size_t alen = slash ? (size_t)(slash - arg) : al;
		if (slash) {
			int c = cidr_value(slash + 1, al - alen - 1, v6 ? 128 : 32);
			if (c < 0) {
				*why = "bad CIDR length";
				return MX_ESYNTAX;
			}
			if (v6)
				term->cidr6 = c;
			else
				term->cidr4 = c;
		}
		if (alen == 0 || alen >= sizeof(buf)) {
			*why = "bad address";
			return MX_ESYNTAX;
		}
		memcpy(buf, arg, alen);
		buf[alen] = '\0';
		term->af = v6 ? AF_INET6 : AF_INET;
		if (inet_pton(term->af, buf, term->addr) != 1) {
			*why = v6 ? "bad IPv6 address" : "bad IPv4 address";
			return MX_ESYNTAX;
		}
		break;
	}
	}
	return 0;
}

void spf_record_free(struct spf_record *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->terms[i].text);
		free(r->terms[i].domain);
		free(r->terms[i].name);
	}
	free(r->terms);
	free(r);
}

int spf_record_parse(const char *text, size_t len, struct spf_record **out, char *err,
                     size_t errlen)
{
	struct spf_record *r = NULL;
	int rc = MX_ESYNTAX;
	*out = NULL;
	if (!spf_is_spf1(text, len)) {
		errf(err, errlen,
		     "record does not start with \"v=spf1\" and a space (RFC 7208 §4.5)");
		goto fail;
	}
	rc = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto fail;
	/* at most one term per two bytes */
	r->terms = calloc(len / 2 + 1, sizeof(*r->terms));
	if (!r->terms)
		goto fail;
	size_t i = 6;
	while (i < len) {
		if (text[i] == ' ') {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && text[i] != ' ')
			i++;
		struct spf_term *t = &r->terms[r->n];
		t->text = memdup0(text + start, i - start);
		if (!t->text)
			goto fail;
		t->pos = start;
		r->n++;
		const char *why = "syntax error";
		rc = parse_term(text + start, i - start, t, r, &why);
		if (rc == -ENOMEM)
			goto fail;
		if (rc != 0) {
			char shown[80];
			size_t sl = 0;
			/* show the term printable, whatever bytes it holds */
			for (size_t j = start; j < i && sl + 5 < sizeof(shown); j++) {
				unsigned char c = (unsigned char)text[j];
				if (c >= 0x20 && c < 0x7f)
					shown[sl++] = (char)c;
				else
					sl += (size_t)snprintf(shown + sl, sizeof(shown) - sl,
					                       "\\x%02x", c);
			}
			shown[sl] = '\0';
			errf(err, errlen, "term %zu '%s' at offset %zu: %s", r->n, shown, start,
			     why);
			goto fail;
		}
		if (t->kind == SPF_T_REDIRECT)
			r->redirect = t;
		else if (t->kind == SPF_T_EXP)
			r->exp = t;
		if (t->kind == SPF_T_MECH) {
			if (t->cidr4 < 0)
				t->cidr4 = 32;
			if (t->cidr6 < 0)
				t->cidr6 = 128;
		}
	}
	*out = r;
	return 0;
fail:
	spf_record_free(r);
	return rc;
}

int spf_record_lookup_terms(const struct spf_record *r)
{
	int n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct spf_term *t = &r->terms[i];
		if (t->kind == SPF_T_REDIRECT)
			n++;
		else if (t->kind == SPF_T_MECH && t->mech != SPF_M_ALL && t->mech != SPF_M_IP4 &&
		         t->mech != SPF_M_IP6)
			n++;
	}
	return n;
}

/* ---- check_host() -------------------------------------------------------- */

#define SENDER_MAX 512

struct ctx {
	const struct spf_resolver *res;
	const struct spf_request *req;
	struct spf_outcome *out;
	int af;
	uint8_t ip[16];
	char sender[2 * SENDER_MAX + 2], local[SENDER_MAX], sdomain[SENDER_MAX], helo[SENDER_MAX];
	int lookups, voids, max_lookups, max_voids;
	int include_depth;
};

enum match { M_NO, M_YES, M_TEMP, M_PERM };

static void why(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct ctx *c, const char *fmt, ...)
{
	/* the first reason is the root cause; keep it */
	if (c->out->reason[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
	va_end(ap);
}

/* RFC 7208 §4.3: a usable domain has labels of 1..63 bytes, at least two
 * of them, and at most 253 bytes. */
static int domain_ok(const char *d)
{
	size_t n = strlen(d), lab = 0, labels = 1;
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > SPF_DOMAIN_MAX || d[0] == '[')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '.') {
			if (lab == 0)
				return 0;
			labels++;
			lab = 0;
		} else if (++lab > 63) {
			return 0;
		}
	}
	return lab > 0 && labels >= 2;
}

static int query(struct ctx *c, spf_query_fn fn, const char *name, struct spf_answer *ans)
{
	spf_answer_cleanup(ans);
	if (!fn)
		return SPF_DNS_TEMPFAIL;
	int st = fn(c->res->ctx, name, ans);
	if (st != SPF_DNS_OK && st != SPF_DNS_NXDOMAIN)
		st = SPF_DNS_TEMPFAIL;
	return st;
}

static spf_query_fn addr_fn(struct ctx *c, int af)
{
	return af == AF_INET ? c->res->a : c->res->aaaa;
}

static void reverse_name(int af, const uint8_t *ip, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	if (af == AF_INET) {
		snprintf(buf, cap, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2], ip[1], ip[0]);
		return;
	}
	size_t n = 0;
	for (int i = 15; i >= 0 && n + 4 < cap; i--) {
		buf[n++] = hex[ip[i] & 15];
		buf[n++] = '.';
		buf[n++] = hex[ip[i] >> 4];
		buf[n++] = '.';
	}
	snprintf(buf + n, cap - n, "ip6.arpa");
}

/* §5.5: the client's validated names: PTR names (at most 10) whose address
 * records contain the client address. Calls fn for each until it says stop.
 * DNS errors make names (or the whole lookup) not validate. */
static void validated_names(struct ctx *c, int (*fn)(void *arg, const char *name), void *arg)
{
	char rev[80];
	struct spf_answer ptrs, addrs;
	spf_answer_init(&ptrs);
	spf_answer_init(&addrs);
	reverse_name(c->af, c->ip, rev, sizeof(rev));
	if (query(c, c->res->ptr, rev, &ptrs) != SPF_DNS_OK)
		goto out;
	for (size_t i = 0; i < ptrs.n && i < SPF_MAX_PTR; i++) {
		char name[SPF_DOMAIN_MAX + 2];
		scopy(name, sizeof(name), ptrs.rr[i].text);
		strip_dot(name);
		if (query(c, addr_fn(c, c->af), name, &addrs) != SPF_DNS_OK)
			continue;
		for (size_t j = 0; j < addrs.n; j++) {
			if (addrs.rr[j].af == c->af &&
			    memcmp(addrs.rr[j].addr, c->ip, c->af == AF_INET ? 4 : 16) == 0) {
				if (fn(arg, name))
					goto out;
				break;
			}
		}
	}
out:
	spf_answer_cleanup(&ptrs);
	spf_answer_cleanup(&addrs);
}

struct pick_p {
	const char *domain;
	char best[SPF_DOMAIN_MAX + 2];
	int under;
};

static int pick_p_cb(void *arg, const char *name)
{
	struct pick_p *p = arg;
	/* §7.3: prefer a name equal to or under <domain> */
	if (name_under(name, p->domain)) {
		scopy(p->best, sizeof(p->best), name);
		p->under = 1;
		return 1;
	}
	if (!p->best[0])
		scopy(p->best, sizeof(p->best), name);
	return 0;
}

static void fill_vars(struct ctx *c, const char *domain, struct spf_macro_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->sender = c->sender;
	v->local = c->local;
	v->sender_domain = c->sdomain;
	v->domain = domain;
	v->helo = c->helo;
	v->receiver = c->req->receiver;
	v->now = c->req->now ? c->req->now : time(NULL);
	v->af = c->af;
	memcpy(v->ip, c->ip, 16);
}

/* Expand a macro-string for this evaluation; p is looked up if used. */
static int expand(struct ctx *c, const char *domain, const char *spec, int flags, char *out,
                  size_t cap)
{
	struct spf_macro_vars v;
	struct pick_p pp = {.domain = domain};
	fill_vars(c, domain, &v);
	size_t len = strlen(spec);
	if (spf_macro_uses_p(spec, len)) {
		validated_names(c, pick_p_cb, &pp);
		if (pp.best[0])
			v.ptr = pp.best;
	}
	return spf_macro_expand(&v, spec, len, flags, out, cap, NULL);
}

/* The target name of a term: its domain-spec expanded, or <domain>. */
static int target_name(struct ctx *c, const struct spf_term *t, const char *domain, char *out)
{
	if (!t->domain) {
		scopy(out, SPF_EXPAND_MAX, domain);
		return 0;
	}
	int rc = expand(c, domain, t->domain, SPF_MACRO_DOMAIN, out, SPF_EXPAND_MAX);
	if (rc == 0)
		strip_dot(out);
	return rc;
}

static enum spf_result check_host(struct ctx *c, const char *domain);

static int count_lookup(struct ctx *c, const struct spf_term *t)
{
	if (++c->lookups > c->max_lookups) {
		why(c, "more than %d DNS-querying terms (RFC 7208 §4.6.4), at '%s'", c->max_lookups,
		    t->text);
		return -1;
	}
	return 0;
}

static int count_void(struct ctx *c, const char *name)
{
	if (++c->voids > c->max_voids) {
		why(c, "more than %d void lookups (RFC 7208 §4.6.4), at %s", c->max_voids, name);
		return -1;
	}
	return 0;
}

/* Whether any address record of name (client's family) is in the network.
 * void_counts: an empty answer is a void lookup. */
static enum match match_addrs(struct ctx *c, const char *name, const struct spf_term *t,
                              int void_counts)
{
	struct spf_answer ans;
	enum match m = M_NO;
	spf_answer_init(&ans);
	int st = query(c, addr_fn(c, c->af), name, &ans);
	if (st == SPF_DNS_TEMPFAIL) {
		why(c, "DNS error looking up addresses of %s", name);
		m = M_TEMP;
		goto out;
	}
	if (ans.n == 0 && void_counts && count_void(c, name) != 0) {
		m = M_PERM;
		goto out;
	}
	int bits = c->af == AF_INET ? t->cidr4 : t->cidr6;
	for (size_t i = 0; i < ans.n; i++)
		if (ans.rr[i].af == c->af && ip_match(c->af, ans.rr[i].addr, c->ip, bits)) {
			m = M_YES;
			break;
		}
out:
	spf_answer_cleanup(&ans);
	return m;
}

static enum match match_mx(struct ctx *c, const char *name, const struct spf_term *t)
{
	struct spf_answer mx;
	enum match m = M_NO;
	spf_answer_init(&mx);
	int st = query(c, c->res->mx, name, &mx);
	if (st == SPF_DNS_TEMPFAIL) {
		why(c, "DNS error looking up MX of %s", name);
		m = M_TEMP;
		goto out;
	}
	if (mx.n == 0) {
		if (count_void(c, name) != 0)
			m = M_PERM;
		goto out;
	}
	/* §4.6.4: no more than 10 address lookups per mx; RFC 7208 settled
	 * on permerror when the MX set is larger */
	if (mx.n > SPF_MAX_MX) {
		why(c, "%s has %zu MX records, more than %d (RFC 7208 §4.6.4)", name, mx.n,
		    SPF_MAX_MX);
		m = M_PERM;
		goto out;
	}
	for (size_t i = 0; i < mx.n && m == M_NO; i++) {
		char host[SPF_DOMAIN_MAX + 2];
		scopy(host, sizeof(host), mx.rr[i].text);
		strip_dot(host);
		m = match_addrs(c, host, t, 0);
	}
out:
	spf_answer_cleanup(&mx);
	return m;
}

struct ptr_match {
	const char *target;
	int found;
};

static int ptr_match_cb(void *arg, const char *name)
{
	struct ptr_match *p = arg;
	if (name_under(name, p->target)) {
		p->found = 1;
		return 1;
	}
	return 0;
}

static enum match match_exists(struct ctx *c, const char *name)
{
	struct spf_answer ans;
	enum match m = M_NO;
	spf_answer_init(&ans);
	/* §5.7: always an A query, whatever the client's family */
	int st = query(c, c->res->a, name, &ans);
	if (st == SPF_DNS_TEMPFAIL) {
		why(c, "DNS error looking up %s", name);
		m = M_TEMP;
	} else if (ans.n > 0) {
		m = M_YES;
	} else if (count_void(c, name) != 0) {
		m = M_PERM;
	}
	spf_answer_cleanup(&ans);
	return m;
}

static enum match match_term(struct ctx *c, const struct spf_term *t, const char *domain)
{
	char target[SPF_EXPAND_MAX];
	switch (t->mech) {
	case SPF_M_ALL:
		return M_YES;
	case SPF_M_IP4:
		return c->af == AF_INET && ip_match(AF_INET, t->addr, c->ip, t->cidr4) ? M_YES
		                                                                       : M_NO;
	case SPF_M_IP6:
		return c->af == AF_INET6 && ip_match(AF_INET6, t->addr, c->ip, t->cidr6) ? M_YES
		                                                                         : M_NO;
	default:
		break;
	}
	if (count_lookup(c, t) != 0)
		return M_PERM;
	if (target_name(c, t, domain, target) != 0) {
		why(c, "macro error in '%s'", t->text);
		return M_PERM;
	}
	switch (t->mech) {
	case SPF_M_INCLUDE: {
		c->include_depth++;
		enum spf_result r = check_host(c, target);
		c->include_depth--;
		switch (r) {
		case SPF_PASS:
			return M_YES;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			return M_NO;
		case SPF_TEMPERROR:
			return M_TEMP;
		case SPF_NONE:
			why(c, "include:%s has no SPF record (RFC 7208 §5.2)", target);
			return M_PERM;
		default:
			return M_PERM;
		}
	}
	case SPF_M_A:
		return match_addrs(c, target, t, 1);
	case SPF_M_MX:
		return match_mx(c, target, t);
	case SPF_M_PTR: {
		struct ptr_match pm = {.target = target};
		validated_names(c, ptr_match_cb, &pm);
		return pm.found ? M_YES : M_NO;
	}
	case SPF_M_EXISTS:
		return match_exists(c, target);
	default:
		return M_PERM;
	}
}

/* §6.2: the explanation for a fail, from exp= or the default. */
static void explain(struct ctx *c, const struct spf_record *rec, const char *domain)
{
	char name[SPF_EXPAND_MAX];
	struct spf_answer ans;
	spf_answer_init(&ans);
	char *out = c->out->explanation;
	size_t cap = sizeof(c->out->explanation);
	out[0] = '\0';
	if (rec->exp &&
	    expand(c, domain, rec->exp->domain, SPF_MACRO_DOMAIN, name, sizeof(name)) == 0) {
		strip_dot(name);
		if (query(c, c->res->txt, name, &ans) == SPF_DNS_OK && ans.n == 1 &&
		    strlen(ans.rr[0].text) == ans.rr[0].len &&
		    expand(c, domain, ans.rr[0].text, SPF_MACRO_EXP, out, cap) == 0)
			goto done;
	}
	out[0] = '\0';
	if (c->req->default_exp)
		expand(c, domain, c->req->default_exp, SPF_MACRO_EXP, out, cap);
done:
	spf_answer_cleanup(&ans);
}

static enum spf_result qual_result(char q)
{
	switch (q) {
	case '-':
		return SPF_FAIL;
	case '~':
		return SPF_SOFTFAIL;
	case '?':
		return SPF_NEUTRAL;
	default:
		return SPF_PASS;
	}
}

/* §4.4, §4.5: the one SPF record of domain. Returns SPF_PASS when *rec is
 * set, else the result to give. */
static enum spf_result fetch_record(struct ctx *c, const char *domain, struct spf_record **rec)
{
	struct spf_answer ans;
	enum spf_result r = SPF_NONE;
	const struct spf_rr *found = NULL;
	char err[256];
	spf_answer_init(&ans);
	*rec = NULL;
	int st = query(c, c->res->txt, domain, &ans);
	if (st == SPF_DNS_TEMPFAIL) {
		why(c, "DNS error looking up TXT of %s", domain);
		r = SPF_TEMPERROR;
		goto out;
	}
	for (size_t i = 0; i < ans.n; i++) {
		if (!spf_is_spf1(ans.rr[i].text, ans.rr[i].len))
			continue;
		if (found) {
			why(c, "%s has more than one SPF record (RFC 7208 §4.5)", domain);
			r = SPF_PERMERROR;
			goto out;
		}
		found = &ans.rr[i];
	}
	if (!found) {
		why(c, "%s has no SPF record", domain);
		goto out;
	}
	if (spf_record_parse(found->text, found->len, rec, err, sizeof(err)) != 0) {
		why(c, "%s: %s", domain, err);
		r = SPF_PERMERROR;
		goto out;
	}
	r = SPF_PASS;
out:
	spf_answer_cleanup(&ans);
	return r;
}

static enum spf_result check_host(struct ctx *c, const char *domain_in)
{
	char domain[SPF_DOMAIN_MAX + 2];
	struct spf_record *rec = NULL;
	enum spf_result r;
	if (!domain_ok(domain_in)) {
		why(c, "'%s' is not a valid domain name (RFC 7208 §4.3)", domain_in);
		return SPF_NONE;
	}
	scopy(domain, sizeof(domain), domain_in);
	strip_dot(domain);
	r = fetch_record(c, domain, &rec);
	if (r != SPF_PASS)
		goto out;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spf_term *t = &rec->terms[i];
		if (t->kind != SPF_T_MECH)
			continue;
		enum match m = match_term(c, t, domain);
		if (m == M_TEMP) {
			r = SPF_TEMPERROR;
			goto out;
		}
		if (m == M_PERM) {
			r = SPF_PERMERROR;
			goto out;
		}
		if (m == M_YES) {
			r = qual_result(t->qual);
			if (c->include_depth == 0) {
				scopy(c->out->mechanism, sizeof(c->out->mechanism), t->text);
				scopy(c->out->mech_domain, sizeof(c->out->mech_domain), domain);
				if (r == SPF_FAIL)
					explain(c, rec, domain);
			}
			goto out;
		}
	}
	if (rec->redirect) {
		char target[SPF_EXPAND_MAX];
		if (count_lookup(c, rec->redirect) != 0) {
			r = SPF_PERMERROR;
			goto out;
		}
		if (target_name(c, rec->redirect, domain, target) != 0) {
			r = SPF_PERMERROR;
			goto out;
		}
		r = check_host(c, target);
		if (r == SPF_NONE) {
			why(c, "redirect=%s has no SPF record (RFC 7208 §6.1)", target);
			r = SPF_PERMERROR;
		}
		goto out;
	}
	/* §4.7: no match, no redirect */
	r = SPF_NEUTRAL;
	if (c->include_depth == 0) {
		c->out->mechanism[0] = '\0';
		scopy(c->out->mech_domain, sizeof(c->out->mech_domain), domain);
	}
out:
	spf_record_free(rec);
	return r;
}

int spf_check_host(const struct spf_resolver *res, const struct spf_request *req,
                   struct spf_outcome *out)
{
	struct ctx c;
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.res = res;
	c.req = req;
	c.out = out;
	c.max_lookups =
	    req->max_lookups > 0 && req->max_lookups < 100 ? req->max_lookups : SPF_MAX_LOOKUPS;
	c.max_voids = req->max_voids > 0 && req->max_voids < 100 ? req->max_voids : SPF_MAX_VOIDS;
	if (!req->ip)
		return MX_EINVAL;
	if (inet_pton(AF_INET, req->ip, c.ip) == 1) {
		c.af = AF_INET;
	} else if (inet_pton(AF_INET6, req->ip, c.ip) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		c.af = AF_INET6;
		/* an IPv4-mapped address is the IPv4 client it stands for */
		if (memcmp(c.ip, mapped, 12) == 0) {
			memmove(c.ip, c.ip + 12, 4);
			memset(c.ip + 4, 0, 12);
			c.af = AF_INET;
		}
	} else {
		return MX_EINVAL;
	}
	scopy(c.helo, sizeof(c.helo), req->helo);
	/* §4.3: an empty MAIL FROM is postmaster@helo; no local-part is
	 * postmaster */
	const char *s = req->sender && req->sender[0] ? req->sender : NULL;
	char buf[SENDER_MAX + 16];
	if (!s) {
		snprintf(buf, sizeof(buf), "postmaster@%s", c.helo);
		s = buf;
	}
	if (strlen(s) >= SENDER_MAX - 12) {
		out->result = SPF_NONE;
		scopy(out->reason, sizeof(out->reason), "sender address too long");
		return 0;
	}
	const char *at = strrchr(s, '@');
	if (at) {
		size_t ll = (size_t)(at - s);
		if (ll == 0)
			scopy(c.local, sizeof(c.local), "postmaster");
		else
			snprintf(c.local, sizeof(c.local), "%.*s", (int)ll, s);
		scopy(c.sdomain, sizeof(c.sdomain), at + 1);
	} else {
		scopy(c.local, sizeof(c.local), "postmaster");
		scopy(c.sdomain, sizeof(c.sdomain), s);
	}
	snprintf(c.sender, sizeof(c.sender), "%s@%s", c.local, c.sdomain);
	const char *domain = req->domain && req->domain[0] ? req->domain : c.sdomain;
	out->result = check_host(&c, domain);
	out->lookups = c.lookups;
	out->voids = c.voids;
	if (out->result != SPF_FAIL)
		out->explanation[0] = '\0';
	return 0;
}

/* ---- lint ----------------------------------------------------------------- */

static void lint_add(struct spf_lint *l, enum spf_lint_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lint_add(struct spf_lint *l, enum spf_lint_level lv, const char *fmt, ...)
{
	if (lv == SPF_LINT_ERROR)
		l->errors++;
	else if (lv == SPF_LINT_WARNING)
		l->warnings++;
	if (l->n >= SPF_LINT_MAX_ITEMS)
		return;
	struct spf_lint_item *it = &l->items[l->n++];
	it->level = lv;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
}

struct lint_walk {
	const struct spf_resolver *res;
	struct spf_lint *l;
	char seen[16][SPF_DOMAIN_MAX + 2];
	int nseen;
};

static int has_macro(const char *s)
{
	return s && strchr(s, '%') != NULL;
}

/* Which TXT records of domain are SPF. *count gets how many; text is the
 * first one. Returns the DNS status. */
static int lint_fetch(struct lint_walk *w, const char *domain, char *text, size_t cap, int *count)
{
	struct spf_answer ans;
	spf_answer_init(&ans);
	*count = 0;
	text[0] = '\0';
	int st = w->res->txt ? w->res->txt(w->res->ctx, domain, &ans) : SPF_DNS_TEMPFAIL;
	if (st == SPF_DNS_OK) {
		for (size_t i = 0; i < ans.n; i++) {
			if (spf_is_spf1(ans.rr[i].text, ans.rr[i].len)) {
				if (*count == 0)
					snprintf(text, cap, "%.*s", (int)ans.rr[i].len,
					         ans.rr[i].text);
				(*count)++;
			} else if (ans.rr[i].len >= 7 &&
			           strncasecmp(ans.rr[i].text, "spf2.0/", 7) == 0) {
				lint_add(w->l, SPF_LINT_WARNING,
				         "%s: spf2.0 (Sender ID, RFC 4406) record is obsolete; "
				         "remove it",
				         domain);
			}
		}
	}
	spf_answer_cleanup(&ans);
	return st;
}

static int lint_void_probe(struct lint_walk *w, const char *name, spf_query_fn fn)
{
	struct spf_answer ans;
	spf_answer_init(&ans);
	int st = fn ? fn(w->res->ctx, name, &ans) : SPF_DNS_TEMPFAIL;
	int isvoid = st == SPF_DNS_NXDOMAIN || (st == SPF_DNS_OK && ans.n == 0);
	int nmx = st == SPF_DNS_OK ? (int)ans.n : 0;
	spf_answer_cleanup(&ans);
	if (isvoid) {
		w->l->voids++;
		lint_add(w->l, SPF_LINT_WARNING,
		         "%s: no %s records (a void lookup, RFC 7208 §4.6.4)", name,
		         fn == w->res->mx ? "MX" : "address");
	}
	if (fn == w->res->mx && nmx > SPF_MAX_MX)
		lint_add(w->l, SPF_LINT_ERROR,
		         "%s has %d MX records; an mx mechanism allows at most %d (permerror)",
		         name, nmx, SPF_MAX_MX);
	return 0;
}

static void lint_walk_record(struct lint_walk *w, const char *domain, const char *text, size_t len,
                             int depth);

static void lint_follow(struct lint_walk *w, const char *what, const char *target, int depth)
{
	char text[2048];
	int count;
	for (int i = 0; i < w->nseen; i++)
		if (strcasecmp(w->seen[i], target) == 0) {
			lint_add(w->l, SPF_LINT_ERROR, "%s:%s loops back to a record already seen",
			         what, target);
			return;
		}
	if (w->nseen < 16)
		scopy(w->seen[w->nseen++], sizeof(w->seen[0]), target);
	int st = lint_fetch(w, target, text, sizeof(text), &count);
	if (st == SPF_DNS_TEMPFAIL) {
		lint_add(w->l, SPF_LINT_WARNING, "%s:%s: DNS error, not counted further", what,
		         target);
		return;
	}
	if (count == 0) {
		lint_add(w->l, SPF_LINT_ERROR, "%s:%s has no SPF record (permerror)", what, target);
		return;
	}
	if (count > 1) {
		lint_add(w->l, SPF_LINT_ERROR, "%s:%s has %d SPF records (permerror)", what, target,
		         count);
		return;
	}
	lint_walk_record(w, target, text, strlen(text), depth + 1);
}

static void lint_walk_record(struct lint_walk *w, const char *domain, const char *text, size_t len,
                             int depth)
{
	struct spf_record *rec = NULL;
	char err[256];
	struct spf_lint *l = w->l;
	const char *where = domain ? domain : "record";
	if (depth > 10)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] > 0x7e) {
			lint_add(l, SPF_LINT_ERROR,
			         "%s: non-ASCII byte at offset %zu (RFC 7208 §3.1)", where, i);
			break;
		}
	if (spf_record_parse(text, len, &rec, err, sizeof(err)) != 0) {
		lint_add(l, SPF_LINT_ERROR, "%s: %s", where, err);
		return;
	}
	int has_all = 0;
	for (size_t i = 0; i < rec->n; i++) {
		const struct spf_term *t = &rec->terms[i];
		if (t->kind == SPF_T_MODIFIER) {
			lint_add(l, SPF_LINT_WARNING, "%s: unknown modifier '%s' is ignored", where,
			         t->text);
			continue;
		}
		if (t->kind == SPF_T_EXP) {
			if (depth > 0)
				lint_add(l, SPF_LINT_INFO,
				         "%s: exp= of an included record is not used", where);
			continue;
		}
		if (t->kind == SPF_T_REDIRECT)
			continue;
		if (has_all)
			lint_add(l, SPF_LINT_WARNING, "%s: '%s' after 'all' is never evaluated",
			         where, t->text);
		switch (t->mech) {
		case SPF_M_ALL:
			has_all = 1;
			if (t->qual == '+')
				lint_add(
				    l, SPF_LINT_WARNING,
				    "%s: '%s' lets every host on the Internet send for the domain",
				    where, t->text);
			else if (t->qual == '?' && depth == 0)
				lint_add(
				    l, SPF_LINT_WARNING,
				    "%s: '?all' gives no protection (neutral); use ~all or -all",
				    where);
			break;
		case SPF_M_PTR:
			lint_add(l, SPF_LINT_WARNING,
			         "%s: 'ptr' is slow and unreliable and SHOULD NOT be used (RFC "
			         "7208 §5.5)",
			         where);
			break;
		case SPF_M_IP4:
		case SPF_M_IP6: {
			uint8_t net[16];
			int bits = t->mech == SPF_M_IP4 ? t->cidr4 : t->cidr6;
			int alen = t->mech == SPF_M_IP4 ? 4 : 16;
			memset(net, 0, sizeof(net));
			for (int b = 0; b < bits; b++)
				net[b / 8] |= (uint8_t)(t->addr[b / 8] & (0x80 >> (b % 8)));
			if (memcmp(net, t->addr, (size_t)alen) != 0)
				lint_add(l, SPF_LINT_INFO,
				         "%s: '%s' has host bits set below the prefix length",
				         where, t->text);
			if (bits < (t->mech == SPF_M_IP4 ? 8 : 16))
				lint_add(l, SPF_LINT_WARNING, "%s: '%s' authorizes a huge network",
				         where, t->text);
			break;
		}
		default:
			break;
		}
	}
	if (rec->redirect && has_all)
		lint_add(l, SPF_LINT_WARNING,
		         "%s: redirect= is ignored because the record has 'all'", where);
	int own = spf_record_lookup_terms(rec);
	l->lookups += own;
	/* recursion through the resolver: includes and redirect, and the void
	 * lookups of targets without macros */
	if (w->res) {
		for (size_t i = 0; i < rec->n; i++) {
			const struct spf_term *t = &rec->terms[i];
			const char *target = t->domain ? t->domain : domain;
			char tgt[SPF_DOMAIN_MAX + 2];
			if (t->kind == SPF_T_MODIFIER || t->kind == SPF_T_EXP || !target)
				continue;
			if (has_macro(target)) {
				if (t->kind == SPF_T_REDIRECT || t->mech == SPF_M_INCLUDE)
					lint_add(
					    l, SPF_LINT_INFO,
					    "%s: '%s' uses macros; its lookups are not counted",
					    where, t->text);
				continue;
			}
			scopy(tgt, sizeof(tgt), target);
			strip_dot(tgt);
			if (t->kind == SPF_T_REDIRECT) {
				if (!has_all)
					lint_follow(w, "redirect", tgt, depth);
				continue;
			}
			switch (t->mech) {
			case SPF_M_INCLUDE:
				lint_follow(w, "include", tgt, depth);
				break;
			case SPF_M_A:
				lint_void_probe(w, tgt, w->res->a);
				break;
			case SPF_M_MX:
				lint_void_probe(w, tgt, w->res->mx);
				break;
			case SPF_M_EXISTS:
				lint_void_probe(w, tgt, w->res->a);
				break;
			default:
				break;
			}
		}
	}
	spf_record_free(rec);
}

static void lint_finish(struct spf_lint *l)
{
	if (l->lookups > SPF_MAX_LOOKUPS)
		lint_add(l, SPF_LINT_ERROR,
		         "%d DNS-querying terms through includes and redirects; the limit is %d "
		         "(RFC 7208 §4.6.4, permerror)",
		         l->lookups, SPF_MAX_LOOKUPS);
	if (l->voids > SPF_MAX_VOIDS)
		lint_add(l, SPF_LINT_ERROR,
		         "%d void lookups; the limit is %d (RFC 7208 §4.6.4, permerror)", l->voids,
		         SPF_MAX_VOIDS);
}

int spf_lint_record(const struct spf_resolver *res, const char *domain, const char *text,
                    size_t len, struct spf_lint *out)
{
	struct lint_walk *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	snprintf(out->record, sizeof(out->record), "%.*s", (int)len, text);
	w->res = res;
	w->l = out;
	if (domain) {
		scopy(w->seen[0], sizeof(w->seen[0]), domain);
		strip_dot(w->seen[0]);
		w->nseen = 1;
	}
	/* §3.3: one string holds at most 255 bytes; §3.4: keep the answer
	 * within 512-byte UDP, so the record within about 450 bytes */
	if (len > 255)
		lint_add(out, SPF_LINT_INFO,
		         "record is %zu bytes: publish it as several strings of at most 255 bytes "
		         "(RFC 7208 §3.3)",
		         len);
	if (len > 450)
		lint_add(out, SPF_LINT_WARNING,
		         "record is %zu bytes; RFC 7208 §3.4 advises under 450 so the answer "
		         "fits a 512-byte UDP response",
		         len);
	lint_walk_record(w, domain, text, len, 0);
	lint_finish(out);
	free(w);
	return 0;
}

int spf_lint_domain(const struct spf_resolver *res, const char *domain, struct spf_lint *out)
{
	struct spf_answer ans;
	struct lint_walk *w = NULL;
	char name[SPF_DOMAIN_MAX + 2];
	int rc = -ENOMEM;
	spf_answer_init(&ans);
	memset(out, 0, sizeof(*out));
	scopy(name, sizeof(name), domain);
	strip_dot(name);
	w = calloc(1, sizeof(*w));
	if (!w)
		goto fail;
	w->res = res;
	w->l = out;
	scopy(w->seen[0], sizeof(w->seen[0]), name);
	w->nseen = 1;
	int count = 0;
	int st = lint_fetch(w, name, out->record, sizeof(out->record), &count);
	if (st == SPF_DNS_TEMPFAIL) {
		lint_add(out, SPF_LINT_ERROR, "%s: DNS error looking up TXT", name);
		rc = 0;
		goto fail;
	}
	if (res->spf && res->spf(res->ctx, name, &ans) == SPF_DNS_OK && ans.n > 0)
		lint_add(
		    out, SPF_LINT_WARNING,
		    "%s publishes the SPF RR type (99); RFC 7208 §3.1 removed it, use TXT only",
		    name);
	if (count == 0) {
		lint_add(out, SPF_LINT_ERROR, "%s has no SPF record (result none)", name);
		rc = 0;
		goto fail;
	}
	if (count > 1)
		lint_add(out, SPF_LINT_ERROR,
		         "%s has %d SPF records; more than one is a permerror (RFC 7208 §4.5)",
		         name, count);
	free(w);
	w = NULL;
	spf_answer_cleanup(&ans);
	struct spf_lint first = *out;
	rc = spf_lint_record(res, name, first.record, strlen(first.record), out);
	/* keep what the fetch found before the record's own findings */
	for (size_t i = 0; i < first.n; i++)
		lint_add(out, first.items[i].level, "%s", first.items[i].msg);
	return rc;
fail:
	spf_answer_cleanup(&ans);
	free(w);
	return rc;
}

/* ---- build ---------------------------------------------------------------- */

static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *n)
		return MX_ESPACE;
	*n += (size_t)w;
	return 0;
}

int spf_build_record(const struct spf_build *b, char *out, size_t cap, char *err, size_t errlen)
{
	struct spf_record *rec = NULL;
	size_t n = 0;
	int rc = MX_EINVAL;
	char perr[256];
	if (!out || cap == 0)
		goto fail;
	out[0] = '\0';
	if (b->all && !strchr("-~?+", b->all)) {
		errf(err, errlen, "all must be fail, softfail, neutral or pass");
		goto fail;
	}
	if (b->redirect && b->all) {
		errf(err, errlen,
		     "redirect= and all exclude each other (redirect is ignored when "
		     "the record has all)");
		goto fail;
	}
	rc = put(out, cap, &n, "v=spf1");
	if (rc == 0 && b->a)
		rc = put(out, cap, &n, " a");
	if (rc == 0 && b->mx)
		rc = put(out, cap, &n, " mx");
	if (rc == 0 && b->ptr)
		rc = put(out, cap, &n, " ptr");
	for (size_t i = 0; rc == 0 && i < b->n_ip4; i++)
		rc = put(out, cap, &n, " ip4:%s", b->ip4[i]);
	for (size_t i = 0; rc == 0 && i < b->n_ip6; i++)
		rc = put(out, cap, &n, " ip6:%s", b->ip6[i]);
	for (size_t i = 0; rc == 0 && i < b->n_include; i++)
		rc = put(out, cap, &n, " include:%s", b->include[i]);
	for (size_t i = 0; rc == 0 && i < b->n_exists; i++)
		rc = put(out, cap, &n, " exists:%s", b->exists[i]);
	if (rc == 0 && b->redirect)
		rc = put(out, cap, &n, " redirect=%s", b->redirect);
	if (rc == 0 && b->all)
		rc = put(out, cap, &n, " %sall", b->all == '+' ? "+" : (char[]){b->all, 0});
	if (rc != 0) {
		errf(err, errlen, "record too long for the output buffer");
		goto fail;
	}
	rc = spf_record_parse(out, n, &rec, perr, sizeof(perr));
	if (rc != 0) {
		errf(err, errlen, "%s", perr);
		goto fail;
	}
	int lookups = spf_record_lookup_terms(rec);
	if (lookups > SPF_MAX_LOOKUPS) {
		errf(err, errlen,
		     "%d DNS-querying terms; RFC 7208 §4.6.4 allows %d (the record would be a "
		     "permerror)",
		     lookups, SPF_MAX_LOOKUPS);
		rc = MX_ELIMIT;
		goto fail;
	}
	spf_record_free(rec);
	return 0;
fail:
	spf_record_free(rec);
	if (out && cap && rc != MX_ELIMIT)
		out[0] = '\0';
	return rc;
}

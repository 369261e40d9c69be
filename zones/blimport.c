/* blimport: listing files -> sorted entry batches -> one write transaction.
 *
 * rbldnsd's formats follow rbldnsd(8): "$SOA/$NS" (the zone's apex comes
 * from our configuration, so they are noted and skipped), "$TTL" (kept
 * per list), "$n" substitution variables and the "$=" base template
 * (expanded here, so the stored reason only keeps "$" = the queried
 * subject and "$$" = a dollar sign), ":A:TXT" default value lines and
 * per-entry values, "!" exclusions, "#" and ";" comments. */
#include "blimport.h"

#include "errcode.h"
#include "name.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum fmt { F_PLAIN = 1, F_IP4SET, F_IP4TSET, F_IP4TRIE, F_IP6TSET, F_IP6TRIE, F_DNSET,
	   F_COMBINED, F_GENERIC };

static const struct {
	const char *name;
	enum fmt f;
} formats[] = {
	{"plain", F_PLAIN},     {"ip4set", F_IP4SET},   {"ip4tset", F_IP4TSET},
	{"ip4trie", F_IP4TRIE}, {"ip6tset", F_IP6TSET}, {"ip6trie", F_IP6TRIE},
	{"dnset", F_DNSET},     {"combined", F_COMBINED}, {"generic", F_GENERIC},
};

static enum fmt format_of(const char *name)
{
	if (name == NULL)
		return 0;
	if (strncmp(name, "rbldnsd-", 8) == 0)
		name += 8;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return formats[i].f;
	return 0;
}

int blimport_format_known(const char *format)
{
	return format_of(format) != 0;
}

void blimport_init(struct blimport *im)
{
	memset(im, 0, sizeof(*im));
	im->last_voff = UINT64_MAX;
}

void blimport_cleanup(struct blimport *im)
{
	free(im->e);
	free(im->pool);
	for (size_t i = 0; i < im->n_lists; i++)
		free(im->lists[i]);
	memset(im, 0, sizeof(*im));
}

static int list_index(struct blimport *im, const char *name)
{
	for (size_t i = 0; i < im->n_lists; i++)
		if (strcmp(im->lists[i], name) == 0)
			return (int)i;
	if (im->n_lists == BLIMPORT_MAX_LISTS)
		return MX_ELIMIT;
	if ((im->lists[im->n_lists] = strdup(name)) == NULL)
		return -ENOMEM;
	return (int)im->n_lists++;
}

static int pool_put(struct blimport *im, const void *p, size_t n, uint64_t *off)
{
	if (im->pool_len + n > im->pool_cap) {
		size_t cap = im->pool_cap ? im->pool_cap * 2 : 1 << 16;
		while (cap < im->pool_len + n)
			cap *= 2;
		uint8_t *np = realloc(im->pool, cap);
		if (np == NULL)
			return -ENOMEM;
		im->pool = np;
		im->pool_cap = cap;
	}
	memcpy(im->pool + im->pool_len, p, n);
	*off = im->pool_len;
	im->pool_len += n;
	return 0;
}

/* Appends one (key, value); equal consecutive values share pool bytes. */
static int add_kv(struct blimport *im, int list, const uint8_t *key, size_t klen,
		  const uint8_t *val, size_t vlen)
{
	struct blimport_entry *e;
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 1024;
		e = realloc(im->e, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		im->e = e;
		im->cap = cap;
	}
	e = &im->e[im->n];
	if (pool_put(im, key, klen, &e->koff) != 0)
		return -ENOMEM;
	if (im->last_voff != UINT64_MAX && im->last_vlen == vlen &&
	    memcmp(im->pool + im->last_voff, val, vlen) == 0) {
		e->voff = im->last_voff;
	} else {
		if (pool_put(im, val, vlen, &e->voff) != 0)
			return -ENOMEM;
		im->last_voff = e->voff;
		im->last_vlen = (uint32_t)vlen;
	}
	e->vlen = (uint32_t)vlen;
	e->klen = (uint16_t)klen;
	e->list = (uint16_t)list;
	e->seq = (uint32_t)im->n;
	im->n++;
	return 0;
}

/* ---- parser state ---- */

#define MAX_SECTION_LISTS 16

struct vars {
	uint8_t code[4];
	char txt[1024];
	int has_txt;
	char var[10][512];
	int has_var[10];
	char base[1024];
	int has_base;
	double maxrange4; /* 0 = no limit */
};

struct pstate {
	struct blimport *im;
	const struct blimport_opts *o;
	const char *label;
	const char *source;
	size_t line;
	enum fmt fmt, file_fmt;
	int lists[MAX_SECTION_LISTS];
	int n_lists;
	struct vars v, global;
	int in_section;
	size_t generic_from; /* first entry of the current generic section */
	char msg[512];
};

static int bad(struct pstate *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct pstate *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->msg, sizeof(ps->msg), fmt, ap);
	va_end(ap);
	return MX_ESYNTAX;
}

static void note(struct pstate *ps, const char *what)
{
	if (ps->o->report)
		fprintf(ps->o->report, "%s:%zu: %s\n", ps->label, ps->line, what);
}

/* "127.0.0.2", or the short forms "2" and "0.2" (127.0.0 implied). */
static int parse_code(const char *s, size_t n, uint8_t code[4])
{
	uint8_t oct[4];
	int k = 0;
	size_t i = 0;
	while (i < n && k < 4) {
		unsigned v = 0;
		size_t d = 0;
		while (i < n && isdigit((unsigned char)s[i]) && d < 4)
			v = v * 10 + (unsigned)(s[i++] - '0'), d++;
		if (d == 0 || v > 255)
			return -1;
		oct[k++] = (uint8_t)v;
		if (i < n && s[i] == '.')
			i++;
		else
			break;
	}
	if (i != n || k == 0)
		return -1;
	uint8_t full[4] = {127, 0, 0, 0};
	memcpy(full + 4 - k, oct, (size_t)k);
	memcpy(code, full, 4);
	return 0;
}

/* Expands $n variables and the $= base template, keeping "$" and "$$"
 * for query time. */
static int expand(struct pstate *ps, const char *txt, char *out, size_t cap)
{
	char tmp[2048];
	const char *src = txt;
	size_t o = 0;

	if (ps->v.has_base) {
		if (txt[0] == '=') {
			src = txt + 1;
		} else {
			/* $= in the base takes the entry's text ("$" when none). */
			const char *ins = *txt ? txt : "$";
			size_t t = 0;
			for (const char *b = ps->v.base; *b && t + 1 < sizeof(tmp); b++) {
				if (b[0] == '$' && b[1] == '=') {
					size_t l = strlen(ins);
					if (t + l >= sizeof(tmp))
						return bad(ps, "TXT template too long");
					memcpy(tmp + t, ins, l);
					t += l;
					b++;
				} else if (b[0] == '$' && b[1] == '$') {
					tmp[t++] = '$';
					if (t + 1 < sizeof(tmp))
						tmp[t++] = '$';
					b++;
				} else {
					tmp[t++] = *b;
				}
			}
			tmp[t] = 0;
			src = tmp;
		}
	}
	for (const char *p = src; *p; p++) {
		const char *ins = NULL;
		char two[3] = {0};
		if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
			int k = p[1] - '0';
			ins = ps->v.has_var[k] ? ps->v.var[k] : "";
			p++;
		} else if (p[0] == '$' && p[1] == '$') {
			two[0] = two[1] = '$';
			ins = two;
			p++;
		} else {
			two[0] = *p;
			ins = two;
		}
		size_t l = strlen(ins);
		if (o + l >= cap)
			return bad(ps, "TXT template longer than %zu bytes", cap - 1);
		memcpy(out + o, ins, l);
		o += l;
	}
	out[o] = 0;
	return 0;
}

/* The value part of a line: "", ":A:TXT", ":A:", ":A", "TXT", or a
 * comment. Sets code and txt (has_txt 0: no TXT). */
static int parse_value(struct pstate *ps, const char *val, uint8_t code[4], char *txt,
		       size_t cap, int *has_txt)
{
	const char *t = NULL;
	memcpy(code, ps->v.code, 4);
	*has_txt = ps->v.has_txt || ps->v.has_base;
	const char *deftxt = ps->v.has_txt ? ps->v.txt : "";
	if (*val == 0 || *val == '#' || *val == ';') {
		t = deftxt;
	} else if (*val == ':') {
		const char *c2 = strchr(val + 1, ':');
		size_t alen = c2 ? (size_t)(c2 - val - 1) : strlen(val + 1);
		while (alen && isspace((unsigned char)val[alen]))
			alen--;
		if (alen && parse_code(val + 1, alen, code) != 0)
			return bad(ps, "bad A value '%.*s' (want 127.0.0.x)", (int)alen, val + 1);
		if (c2 == NULL) {
			t = deftxt;
		} else {
			t = c2 + 1;
			while (isspace((unsigned char)*t))
				t++;
			*has_txt = *t != 0 || ps->v.has_base;
		}
	} else {
		t = val;
		*has_txt = 1;
	}
	if (!*has_txt) {
		txt[0] = 0;
		return 0;
	}
	return expand(ps, t, txt, cap);
}

static int encode_value(struct pstate *ps, int exclude, const uint8_t (*codes)[4], int n_codes,
			const char *txt, uint8_t *out, size_t cap)
{
	struct blval v = {0};
	size_t tl = strlen(txt);
	if (tl > 4000)
		return bad(ps, "reason longer than 4000 bytes");
	v.flags = exclude ? BLVAL_EXCLUDE : 0;
	if (!exclude) {
		v.n_codes = (uint8_t)n_codes;
		memcpy(v.codes, codes, (size_t)n_codes * 4);
		v.reason = txt;
		v.reason_len = (uint16_t)tl;
	}
	v.listed_at = ps->o->now;
	if (ps->o->expires) {
		v.flags |= BLVAL_EXPIRES;
		v.expires = ps->o->expires;
	}
	if (ps->source && *ps->source) {
		v.flags |= BLVAL_SOURCE;
		v.source = ps->source;
		v.source_len = (uint8_t)(strlen(ps->source) > 255 ? 255 : strlen(ps->source));
	}
	return blval_encode(&v, out, cap);
}

/* ---- address forms ---- */

/* 1..4 dotted decimal octets at *s; returns the count, advances *s. */
static int octets(const char **s, uint8_t o[4])
{
	int k = 0;
	const char *p = *s;
	memset(o, 0, 4);
	while (k < 4) {
		unsigned v = 0;
		int d = 0;
		while (isdigit((unsigned char)*p) && d < 4)
			v = v * 10 + (unsigned)(*p++ - '0'), d++;
		if (d == 0 || v > 255)
			return -1;
		o[k++] = (uint8_t)v;
		if (*p == '.' && isdigit((unsigned char)p[1]))
			p++;
		else
			break;
	}
	*s = p;
	return k;
}

/* rbldnsd's IPv4 range forms (see rbldnsd(8), ip4set): a.b.c.d, a prefix
 * a.b.c, CIDR a.b.c/N, a.b.c.d-e (last-octet suffix), a.b-c.d (prefix
 * boundaries, the upper one completed with 255s). */
static int ip4_range(const char *s, uint8_t lo[4], uint8_t hi[4], int allow_dash)
{
	uint8_t p1[4], p2[4];
	int n1 = octets(&s, p1);
	if (n1 < 1)
		return -1;
	memcpy(lo, p1, 4);
	memcpy(hi, p1, 4);
	if (*s == '/') {
		char *end;
		long bits = strtol(s + 1, &end, 10);
		if (!isdigit((unsigned char)s[1]) || *end || bits < 0 || bits > 32)
			return -1;
		for (int i = 0; i < 4; i++) {
			int b = (int)bits - 8 * i;
			uint8_t m = b >= 8 ? 0xFF : b <= 0 ? 0 : (uint8_t)(0xFF << (8 - b));
			lo[i] = p1[i] & m;
			hi[i] = lo[i] | (uint8_t)~m;
		}
		return 0;
	}
	for (int i = n1; i < 4; i++)
		hi[i] = 255;
	if (*s == '-' && allow_dash) {
		s++;
		int n2 = octets(&s, p2);
		if (n2 < 1 || *s)
			return -1;
		if (n2 == 1 && n1 > 1) { /* suffix: replaces the last given octet */
			hi[n1 - 1] = p2[0];
		} else {
			memcpy(hi, p2, 4);
			for (int i = n2; i < 4; i++)
				hi[i] = 255;
		}
		return memcmp(lo, hi, 4) <= 0 ? 0 : -1;
	}
	return *s ? -1 : 0;
}

/* IPv6 as rbldnsd writes it: compressed "::" forms (default /128), or
 * leading groups with the trailing zero groups left out (default: 16 bits
 * per group given). */
static int ip6_prefix(const char *s, uint8_t a[16], int *plen)
{
	char buf[80];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int deflen = 128;
	if (n == 0 || n >= 64)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (strstr(buf, "::") == NULL) {
		int groups = 1;
		for (char *p = buf; *p; p++)
			groups += *p == ':';
		if (groups > 8)
			return -1;
		deflen = 16 * groups;
		for (int g = groups; g < 8; g++)
			strcat(buf, ":0");
	}
	if (inet_pton(AF_INET6, buf, a) != 1)
		return -1;
	*plen = deflen;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || v < 0 || v > 128)
			return -1;
		*plen = (int)v;
	}
	return 0;
}

static int domain_entry(const char *s, uint8_t wire[256], int *kinds)
{
	*kinds = BLKEY_EXACT;
	if (s[0] == '*' && s[1] == '.') {
		*kinds = BLKEY_WILD;
		s += 2;
	} else if (s[0] == '.' && s[1]) {
		*kinds = BLKEY_WILD | BLKEY_EXACT;
		s += 1;
	}
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '*' || (unsigned char)*c >= 0x7F)
			return -1;
	int n = name_from_text(s, wire);
	if (n < 2)
		return -1;
	name_lower(wire, wire, (size_t)n);
	return 0;
}

/* ---- adding parsed entries ---- */

struct range_ctx {
	struct pstate *ps;
	int type;
	const uint8_t *val;
	size_t vlen;
	int exclude;
	int rc;
};

static int put_prefix(void *arg, const uint8_t *addr, int plen)
{
	struct range_ctx *r = arg;
	struct pstate *ps = r->ps;
	uint8_t key[BLKEY_MAX];
	size_t klen;
	for (int i = 0; i < ps->n_lists; i++) {
		klen = blkey_ip(key, blkey_list_id(ps->im->lists[ps->lists[i]]), r->type, addr, plen);
		if (add_kv(ps->im, ps->lists[i], key, klen, r->val, r->vlen) != 0)
			return -ENOMEM;
	}
	if (!r->exclude)
		ps->im->addrs[r->type == BLKEY_IP4 ? 0 : 1] += blkey_prefix_size(r->type, plen);
	return 0;
}

static int put_range(struct pstate *ps, int type, const uint8_t *lo, const uint8_t *hi,
		     int exclude, const uint8_t *val, size_t vlen)
{
	struct range_ctx r = {ps, type, val, vlen, exclude, 0};
	if (type == BLKEY_IP4 && ps->v.maxrange4 > 0 && !exclude) {
		double size = 0;
		for (int i = 0; i < 4; i++)
			size = size * 256 + (hi[i] - lo[i]);
		if (size + 1 > ps->v.maxrange4) {
			note(ps, "range larger than $MAXRANGE4, ignored (as rbldnsd)");
			return 0;
		}
	}
	return blkey_range_split(type, lo, hi, put_prefix, &r);
}

static int put_cidr(struct pstate *ps, int type, const uint8_t *addr, int plen, int exclude,
		    const uint8_t *val, size_t vlen)
{
	struct range_ctx r = {ps, type, val, vlen, exclude, 0};
	return put_prefix(&r, addr, plen);
}

static int put_domain(struct pstate *ps, const uint8_t *wire, int kinds, const uint8_t *val,
		      size_t vlen)
{
	uint8_t key[BLKEY_MAX];
	for (int i = 0; i < ps->n_lists; i++) {
		uint32_t id = blkey_list_id(ps->im->lists[ps->lists[i]]);
		for (int k = BLKEY_WILD; k <= BLKEY_EXACT; k++) {
			if (!(kinds & k))
				continue;
			int klen = blkey_domain(key, id, wire, k);
			if (klen < 0)
				return bad(ps, "domain name has a control byte");
			if (add_kv(ps->im, ps->lists[i], key, (size_t)klen, val, vlen) != 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* ---- lines ---- */

static int special(struct pstate *ps, char *s)
{
	char *kw = s, *arg = s;
	while (*arg && !isspace((unsigned char)*arg))
		arg++;
	if (*arg)
		*arg++ = 0;
	while (isspace((unsigned char)*arg))
		arg++;
	if (strcmp(kw, "SOA") == 0 || strcmp(kw, "NS") == 0 || strcmp(kw, "TIMESTAMP") == 0) {
		note(ps, "$SOA/$NS/$TIMESTAMP: the zone's apex comes from the mxdnsd configuration; skipped");
		return 0;
	}
	if (strcmp(kw, "TTL") == 0) {
		char *end;
		unsigned long t = strtoul(arg, &end, 10);
		if (!isdigit((unsigned char)*arg))
			return bad(ps, "bad $TTL '%s'", arg);
		switch (*end) {
		case 'w': t *= 7 * 86400; end++; break;
		case 'd': t *= 86400; end++; break;
		case 'h': t *= 3600; end++; break;
		case 'm': t *= 60; end++; break;
		case 's': end++; break;
		}
		if (*end || t > 0x7FFFFFFF)
			return bad(ps, "bad $TTL '%s'", arg);
		for (int i = 0; i < ps->n_lists; i++)
			ps->im->ttl[ps->lists[i]] = (uint32_t)t;
		return 0;
	}
	if (strcmp(kw, "MAXRANGE4") == 0) {
		double v;
		if (arg[0] == '/') {
			int bits = atoi(arg + 1);
			if (bits < 0 || bits > 32)
				return bad(ps, "bad $MAXRANGE4 '%s'", arg);
			v = (double)(1ull << (32 - bits));
		} else {
			v = strtod(arg, NULL);
		}
		if (v <= 0)
			return bad(ps, "bad $MAXRANGE4 '%s'", arg);
		if (ps->v.maxrange4 == 0 || v < ps->v.maxrange4)
			ps->v.maxrange4 = v;
		return 0;
	}
	if (kw[0] >= '0' && kw[0] <= '9' && kw[1] == 0) {
		if (ps->fmt == F_GENERIC)
			return 0;
		int k = kw[0] - '0';
		snprintf(ps->v.var[k], sizeof(ps->v.var[k]), "%s", arg);
		ps->v.has_var[k] = 1;
		return 0;
	}
	if (strcmp(kw, "=") == 0) {
		snprintf(ps->v.base, sizeof(ps->v.base), "%s", arg);
		ps->v.has_base = 1;
		return 0;
	}
	if (strcmp(kw, "DATASET") == 0) {
		if (ps->file_fmt != F_COMBINED)
			return bad(ps, "$DATASET outside a combined file");
		char *type = strtok(arg, " \t");
		if (type == NULL)
			return bad(ps, "$DATASET without a type");
		char *colon = strchr(type, ':');
		if (colon)
			*colon = 0;
		enum fmt f = format_of(type);
		if (f == 0 || f == F_COMBINED || f == F_PLAIN)
			return bad(ps, "unknown dataset type '%s'", type);
		if (!ps->in_section)
			ps->global = ps->v;
		ps->in_section = 1;
		ps->v = ps->global;
		ps->fmt = f;
		ps->n_lists = 0;
		ps->generic_from = ps->im->n;
		for (char *sz = strtok(NULL, " \t"); sz; sz = strtok(NULL, " \t")) {
			char name[600];
			if (strcmp(sz, "@") == 0)
				snprintf(name, sizeof(name), "%s", ps->o->list);
			else
				snprintf(name, sizeof(name), "%s.%s", sz, ps->o->list);
			int idx = list_index(ps->im, name);
			if (idx < 0)
				return bad(ps, "too many lists");
			if (ps->n_lists < MAX_SECTION_LISTS)
				ps->lists[ps->n_lists++] = idx;
		}
		return 0;
	}
	return bad(ps, "unknown directive '$%s'", kw);
}

/* A generic-dataset record: "name [ttl] A ip" or "name [ttl] TXT text". */
static int generic_line(struct pstate *ps, char *s)
{
	char *name = strtok(s, " \t"), *type = strtok(NULL, " \t"), *rest;
	uint8_t wire[256], key[BLKEY_MAX], vbuf[8192];
	if (type && isdigit((unsigned char)type[0]))
		type = strtok(NULL, " \t");
	rest = strtok(NULL, "");
	if (!name || !type || !rest)
		return bad(ps, "want NAME [TTL] TYPE DATA");
	while (isspace((unsigned char)*rest))
		rest++;
	if (strcmp(name, "@") == 0) {
		note(ps, "records at the zone apex are not stored; skipped");
		return 0;
	}
	int kinds;
	if (domain_entry(name, wire, &kinds) != 0 || kinds != BLKEY_EXACT)
		return bad(ps, "bad name '%s'", name);
	struct blval v = {0};
	char txt[1024] = "";
	int found = -1;
	if (ps->n_lists < 1)
		return bad(ps, "no list");
	int klen = blkey_domain(key, blkey_list_id(ps->im->lists[ps->lists[0]]), wire, BLKEY_EXACT);
	if (klen < 0)
		return bad(ps, "bad name '%s'", name);
	for (size_t i = ps->generic_from; i < ps->im->n; i++) {
		struct blimport_entry *e = &ps->im->e[i];
		if (e->klen == klen && memcmp(ps->im->pool + e->koff, key, (size_t)klen) == 0) {
			found = (int)i;
			blval_decode(ps->im->pool + e->voff, e->vlen, &v);
			snprintf(txt, sizeof(txt), "%.*s", v.reason_len, v.reason);
		}
	}
	if (strcasecmp(type, "A") == 0) {
		uint8_t a[4];
		if (inet_pton(AF_INET, rest, a) != 1)
			return bad(ps, "bad A data '%s'", rest);
		if (v.n_codes < BLVAL_MAX_CODES)
			memcpy(v.codes[v.n_codes++], a, 4);
	} else if (strcasecmp(type, "TXT") == 0) {
		/* Literal text: a "$" stays a dollar sign. */
		size_t o = 0;
		const char *p = rest;
		int quoted = *p == '"';
		if (quoted)
			p++;
		for (; *p && o + 2 < sizeof(txt); p++) {
			if (quoted && *p == '"')
				break;
			if (*p == '$')
				txt[o++] = '$';
			txt[o++] = *p;
		}
		txt[o] = 0;
	} else {
		note(ps, "only A and TXT records are stored from generic data; skipped");
		return 0;
	}
	int n = encode_value(ps, 0, (const uint8_t(*)[4])v.codes, v.n_codes, txt, vbuf, sizeof(vbuf));
	if (n < 0)
		return n;
	if (found >= 0) {
		struct blimport_entry *e = &ps->im->e[found];
		uint64_t off;
		if (pool_put(ps->im, vbuf, (size_t)n, &off) != 0)
			return -ENOMEM;
		e->voff = off;
		e->vlen = (uint32_t)n;
		ps->im->last_voff = UINT64_MAX;
		return 0;
	}
	return put_domain(ps, wire, BLKEY_EXACT, vbuf, (size_t)n);
}

static int entry_line(struct pstate *ps, char *s)
{
	int exclude = 0;
	uint8_t vbuf[8192], code[4];
	char txt[1024];
	int has_txt, n;

	if (*s == '!') {
		exclude = 1;
		s++;
	}
	char *val = s;
	while (*val && !isspace((unsigned char)*val))
		val++;
	if (*val)
		*val++ = 0;
	while (isspace((unsigned char)*val))
		val++;
	if (ps->fmt == F_PLAIN) {
		memcpy(code, ps->o->n_codes ? ps->o->codes[0] : (const uint8_t[4]){127, 0, 0, 2}, 4);
		snprintf(txt, sizeof(txt), "%s", *val == '#' ? "" : val);
		has_txt = 1;
		n = encode_value(ps, exclude,
				 ps->o->n_codes ? (const uint8_t(*)[4])ps->o->codes
						: (const uint8_t(*)[4])code,
				 ps->o->n_codes ? ps->o->n_codes : 1, txt, vbuf, sizeof(vbuf));
	} else {
		if (ps->fmt == F_IP4TSET || ps->fmt == F_IP6TSET) {
			/* "trivial" sets: one value for the whole dataset */
			memcpy(code, ps->v.code, 4);
			has_txt = ps->v.has_txt || ps->v.has_base;
			if (has_txt && expand(ps, ps->v.has_txt ? ps->v.txt : "", txt, sizeof(txt)) != 0)
				return MX_ESYNTAX;
		} else if (parse_value(ps, val, code, txt, sizeof(txt), &has_txt) != 0) {
			return MX_ESYNTAX;
		}
		if (!has_txt)
			txt[0] = 0;
		n = encode_value(ps, exclude, (const uint8_t(*)[4])code, 1, txt, vbuf, sizeof(vbuf));
	}
	if (n < 0)
		return n == MX_ESYNTAX ? n : bad(ps, "value too long");

	uint8_t lo[16], hi[16], wire[256];
	int plen, kinds;
	switch (ps->fmt) {
	case F_IP4SET:
	case F_IP4TRIE:
	case F_IP4TSET:
		if (ip4_range(s, lo, hi, ps->fmt == F_IP4SET) != 0)
			return bad(ps, "bad IPv4 entry '%s'", s);
		if (ps->fmt == F_IP4TSET && memcmp(lo, hi, 4) != 0)
			return bad(ps, "ip4tset takes single addresses, not '%s'", s);
		return put_range(ps, BLKEY_IP4, lo, hi, exclude, vbuf, (size_t)n);
	case F_IP6TRIE:
	case F_IP6TSET:
		if (ip6_prefix(s, lo, &plen) != 0)
			return bad(ps, "bad IPv6 entry '%s'", s);
		if (ps->fmt == F_IP6TSET && !exclude && (plen != 64 || strchr(s, '/')))
			return bad(ps, "ip6tset takes /64s as four groups, not '%s'", s);
		return put_cidr(ps, BLKEY_IP6, lo, plen, exclude, vbuf, (size_t)n);
	case F_DNSET:
		if (domain_entry(s, wire, &kinds) != 0)
			return bad(ps, "bad domain '%s'", s);
		return put_domain(ps, wire, kinds, vbuf, (size_t)n);
	case F_PLAIN: {
		char *dash = strchr(s, '-');
		int t;
		if (dash && (strchr(s, ':') || isdigit((unsigned char)s[0])) &&
		    (inet_pton(AF_INET, (*dash = 0, s), lo) == 1 ||
		     inet_pton(AF_INET6, s, lo) == 1)) {
			t = strchr(s, ':') ? BLKEY_IP6 : BLKEY_IP4;
			if (inet_pton(t == BLKEY_IP4 ? AF_INET : AF_INET6, dash + 1, hi) != 1 ||
			    memcmp(lo, hi, t == BLKEY_IP4 ? 4 : 16) > 0)
				return bad(ps, "bad range '%s-%s'", s, dash + 1);
			return put_range(ps, t, lo, hi, exclude, vbuf, (size_t)n);
		}
		if (dash)
			*dash = '-';
		t = blkey_parse_entry(s, lo, &plen, wire, &kinds);
		if (t == BLKEY_IP4 || t == BLKEY_IP6)
			return put_cidr(ps, t, lo, plen, exclude, vbuf, (size_t)n);
		if (t == BLKEY_DOM)
			return put_domain(ps, wire, kinds, vbuf, (size_t)n);
		return bad(ps, "'%s' is not an address, prefix, range or domain", s);
	}
	default:
		return bad(ps, "entry before the first $DATASET");
	}
}

static int one_line(struct pstate *ps, char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || isspace((unsigned char)s[n - 1])))
		s[--n] = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == 0)
		return 0;
	if (ps->fmt != F_PLAIN) {
		if (s[0] == '$')
			return special(ps, s + 1);
		if ((s[0] == '#' || s[0] == ';' || s[0] == ':') && s[1] == '$')
			return special(ps, s + 2);
		if (s[0] == '#' || s[0] == ';')
			return 0;
		if (ps->fmt == F_COMBINED)
			return bad(ps, "entry before the first $DATASET");
		if (ps->fmt == F_GENERIC)
			return generic_line(ps, s);
		/* "::1" in an IPv6 dataset is an address, not a value line */
		int v6addr = (ps->fmt == F_IP6TRIE || ps->fmt == F_IP6TSET) && s[1] == ':';
		if (s[0] == ':' && !v6addr) { /* default value for what follows */
			int has;
			char txt[1024];
			uint8_t code[4];
			int rc = parse_value(ps, s, code, txt, sizeof(txt), &has);
			if (rc != 0)
				return rc;
			memcpy(ps->v.code, code, 4);
			/* keep the raw template: $n may change later, as in rbldnsd */
			const char *c2 = strchr(s + 1, ':');
			const char *t = c2 ? c2 + 1 : "";
			while (isspace((unsigned char)*t))
				t++;
			snprintf(ps->v.txt, sizeof(ps->v.txt), "%s", t);
			ps->v.has_txt = *t != 0;
			return 0;
		}
		return entry_line(ps, s);
	}
	if (s[0] == '#')
		return 0;
	return entry_line(ps, s);
}

int blimport_stream(struct blimport *im, FILE *fp, const char *label,
		    const struct blimport_opts *o, char *err, size_t errlen)
{
	struct pstate ps;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	const char *base = strrchr(label, '/');
	char source[300];

	memset(&ps, 0, sizeof(ps));
	ps.im = im;
	ps.o = o;
	ps.label = label;
	snprintf(source, sizeof(source), "import %s", base ? base + 1 : label);
	ps.source = source;
	ps.fmt = ps.file_fmt = format_of(o->format);
	if (ps.fmt == 0) {
		snprintf(err, errlen, "unknown format '%s'", o->format ? o->format : "");
		return MX_EINVAL;
	}
	uint8_t two[4] = {127, 0, 0, 2};
	memcpy(ps.v.code, two, 4);
	int idx = list_index(im, o->list);
	if (idx < 0) {
		snprintf(err, errlen, "too many lists");
		return MX_ELIMIT;
	}
	if (ps.fmt != F_COMBINED) {
		ps.lists[0] = idx;
		ps.n_lists = 1;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		ps.line++;
		im->n_lines++;
		if (memchr(line, 0, (size_t)len)) {
			rc = bad(&ps, "NUL byte in line");
		} else {
			rc = one_line(&ps, line);
		}
		if (rc == -ENOMEM) {
			snprintf(err, errlen, "%s:%zu: out of memory", label, ps.line);
			goto out;
		}
		if (rc != 0) {
			if (!o->skip_bad) {
				snprintf(err, errlen, "%s:%zu: %s", label, ps.line, ps.msg);
				goto out;
			}
			im->n_bad++;
			if (o->report)
				fprintf(o->report, "%s:%zu: skipped: %s\n", label, ps.line, ps.msg);
			rc = 0;
		}
	}
	if (ferror(fp)) {
		rc = -errno;
		snprintf(err, errlen, "%s: read error: %s", label, strerror(errno));
	}
out:
	free(line);
	return rc;
}

int blimport_file(struct blimport *im, const char *path, const struct blimport_opts *o, char *err,
		  size_t errlen)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (fp == NULL) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	int rc = blimport_stream(im, fp, strcmp(path, "-") == 0 ? "<stdin>" : path, o, err, errlen);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

int blimport_entry_add(struct blimport *im, const char *list, const char *text, int exclude,
		       const struct blval *v, char *err, size_t errlen)
{
	struct pstate ps;
	struct blimport_opts o = {0};
	uint8_t vbuf[BLVAL_MAX];
	char buf[600];
	struct blval vv = *v;

	memset(&ps, 0, sizeof(ps));
	ps.im = im;
	ps.o = &o;
	ps.label = "argument";
	ps.fmt = F_PLAIN;
	o.list = list;
	int idx = list_index(im, list);
	if (idx < 0) {
		snprintf(err, errlen, "too many lists");
		return MX_ELIMIT;
	}
	ps.lists[0] = idx;
	ps.n_lists = 1;
	if (exclude)
		vv.flags |= BLVAL_EXCLUDE;
	int n = blval_encode(&vv, vbuf, sizeof(vbuf));
	if (n < 0) {
		snprintf(err, errlen, "value too long");
		return n;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	/* Reuse the plain-format entry parser with a fixed value. */
	uint8_t lo[16], hi[16], wire[256];
	int plen, kinds, rc;
	char *dash = strchr(buf, '-');
	if (dash && (strchr(buf, ':') || isdigit((unsigned char)buf[0]))) {
		*dash = 0;
		int t = strchr(buf, ':') ? BLKEY_IP6 : BLKEY_IP4;
		int af = t == BLKEY_IP4 ? AF_INET : AF_INET6;
		if (inet_pton(af, buf, lo) != 1 || inet_pton(af, dash + 1, hi) != 1 ||
		    memcmp(lo, hi, t == BLKEY_IP4 ? 4 : 16) > 0) {
			*dash = '-';
			goto domain;
		}
		rc = put_range(&ps, t, lo, hi, exclude, vbuf, (size_t)n);
		goto done;
	}
domain:
	switch (blkey_parse_entry(text, lo, &plen, wire, &kinds)) {
	case BLKEY_IP4:
		rc = put_cidr(&ps, BLKEY_IP4, lo, plen, exclude, vbuf, (size_t)n);
		break;
	case BLKEY_IP6:
		rc = put_cidr(&ps, BLKEY_IP6, lo, plen, exclude, vbuf, (size_t)n);
		break;
	case BLKEY_DOM:
		rc = put_domain(&ps, wire, kinds, vbuf, (size_t)n);
		break;
	default:
		snprintf(err, errlen, "'%s' is not an address, prefix, range or domain", text);
		return MX_ESYNTAX;
	}
done:
	if (rc != 0)
		snprintf(err, errlen, "'%s': %s", text, ps.msg[0] ? ps.msg : mx_strerror(rc));
	return rc;
}

/* ---- sorting and applying ---- */

static const uint8_t *sort_pool;

static int cmp_entry(const void *a, const void *b)
{
	const struct blimport_entry *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(sort_pool + x->koff, sort_pool + y->koff, n);
	if (c == 0)
		c = (int)x->klen - (int)y->klen;
	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	return c;
}

void blimport_sort(struct blimport *im)
{
	if (im->n < 2)
		return;
	sort_pool = im->pool;
	qsort(im->e, im->n, sizeof(*im->e), cmp_entry);
	sort_pool = NULL;
	/* Equal keys are adjacent in input order: keep the last. */
	size_t w = 0;
	for (size_t i = 0; i < im->n; i++) {
		if (i + 1 < im->n && im->e[i].klen == im->e[i + 1].klen &&
		    memcmp(im->pool + im->e[i].koff, im->pool + im->e[i + 1].koff,
			   im->e[i].klen) == 0)
			continue;
		im->e[w++] = im->e[i];
	}
	im->n = w;
}

struct apply_ctx {
	struct blstore *s;
	const struct blimport *im;
	const struct blapply_opts *o;
	struct blapply_result *res;
	char *err;
	size_t errlen;
	struct timespec t0;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* What the test points look like in a list: bit 0 127.0.0.1 listed, bit 1
 * 127.0.0.2 listed, same for ::FFFF:7F00:1/2 (bits 2, 3) and INVALID/TEST
 * (bits 4, 5). */
static int test_points(MDB_cursor *c, uint32_t id, int *mask)
{
	static const uint8_t v4[2][4] = {{127, 0, 0, 1}, {127, 0, 0, 2}};
	uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1};
	static const uint8_t invalid[] = "\7invalid", test[] = "\4test";
	struct blstore_hit h;
	int rc;
	*mask = 0;
	for (int i = 0; i < 2; i++) {
		if ((rc = blstore_match_ip(c, id, BLKEY_IP4, v4[i], 32, NULL, 0, &h)) != 0)
			return rc;
		*mask |= (h.what == BLM_LISTED) << i;
		v6[15] = (uint8_t)(1 + i);
		if ((rc = blstore_match_ip(c, id, BLKEY_IP6, v6, 128, NULL, 0, &h)) != 0)
			return rc;
		*mask |= (h.what == BLM_LISTED) << (2 + i);
		if ((rc = blstore_match_domain(c, id, i ? test : invalid, 0, &h)) != 0)
			return rc;
		*mask |= (h.what == BLM_LISTED) << (4 + i);
	}
	return 0;
}

static int apply_txn(MDB_txn *txn, void *arg)
{
	struct apply_ctx *a = arg;
	const struct blimport *im = a->im;
	struct blstore *s = a->s;
	MDB_cursor *c = NULL;
	int before[BLIMPORT_MAX_LISTS], rc = 0, mrc;
	struct blstore_list l;
	/* The prefix lengths written, per list, merged into the lists'
	 * records before the commit (see struct blstore_plens). */
	uint32_t ids[BLIMPORT_MAX_LISTS];
	struct blstore_plens plens[BLIMPORT_MAX_LISTS];
	/* Likewise the /24s of the positive IPv4 entries, so that each
	 * touched filter chunk is written once, at the end. */
	struct blfilt *filt[BLIMPORT_MAX_LISTS] = {NULL};
	/* And the /8s whose answer index must be rebuilt, deletes included. */
	uint8_t touched[BLIMPORT_MAX_LISTS][32];
	/* The texts this transaction stored: per attempt, since a retry
	 * after MX_ELIMIT starts from an aborted transaction. */
	struct blstore_strs strs = {0};
	uint8_t *vbuf = NULL;
	size_t append_ok = 1;
	double last_report = 1.0;

	memset(a->res, 0, sizeof(*a->res));
	memset(touched, 0, sizeof(touched));
	if ((vbuf = malloc(BLVAL_MAX)) == NULL) {
		rc = -ENOMEM;
		goto fail_db;
	}
	if ((mrc = mdb_cursor_open(txn, s->entries, &c)) != 0)
		goto mdb_fail;
	for (size_t i = 0; i < im->n_lists; i++) {
		rc = a->o->mode == BLAPPLY_DEL ? blstore_list_get(txn, s, im->lists[i], &l)
					       : blstore_list_ensure(txn, s, im->lists[i], &l);
		if (rc == MX_EEXIST) {
			snprintf(a->err, a->errlen,
				 "list '%s' collides with another list's id; choose another name",
				 im->lists[i]);
			goto fail;
		}
		if (rc == MX_ENOTFOUND) {
			snprintf(a->err, a->errlen, "no list '%s' in %s", im->lists[i], s->path);
			goto fail;
		}
		if (rc != 0)
			goto fail_db;
		if (im->ttl[i] && l.ttl != im->ttl[i]) {
			l.ttl = im->ttl[i];
			if ((rc = blstore_list_put(txn, s, im->lists[i], &l)) != 0)
				goto fail_db;
		}
		ids[i] = l.id;
		memset(&plens[i], 0, sizeof(plens[i]));
		if (a->o->mode == BLAPPLY_PUT && (filt[i] = blfilt_new()) == NULL) {
			rc = -ENOMEM;
			goto fail_db;
		}
		if ((rc = test_points(c, l.id, &before[i])) != 0)
			goto fail_db;
		if (a->o->replace) {
			size_t n = 0;
			if ((rc = blstore_list_clear(txn, s, l.id, &n)) != 0)
				goto fail_db;
			memset(touched[i], 0xFF, sizeof(touched[i]));
			a->res->deleted += n;
		}
	}
	for (size_t i = 0; i < im->n; i++) {
		const struct blimport_entry *e = &im->e[i];
		MDB_val k = {e->klen, im->pool + e->koff}, v = {e->vlen, im->pool + e->voff};
		blstore_fast_touch(touched[e->list], k.mv_data, k.mv_size);
		if (a->o->mode == BLAPPLY_DEL) {
			mrc = mdb_del(txn, s->entries, &k, NULL);
			if (mrc == MDB_NOTFOUND) {
				a->res->missing++;
				continue;
			}
			if (mrc != 0)
				goto mdb_fail;
			a->res->deleted++;
			continue;
		}
		int vlen = blstore_val_compact(txn, s, &strs, v.mv_data, v.mv_size, vbuf,
					       BLVAL_MAX);
		if (vlen < 0) {
			rc = vlen;
			goto fail_db;
		}
		v.mv_size = (size_t)vlen;
		v.mv_data = vbuf;
		/* Sorted input past every existing key appends without a
		 * search (MDB_APPEND); otherwise a plain put. */
		mrc = MDB_KEYEXIST;
		if (append_ok)
			mrc = mdb_cursor_put(c, &k, &v, MDB_APPEND);
		if (mrc == MDB_KEYEXIST) {
			append_ok = 0;
			mrc = mdb_cursor_put(c, &k, &v, 0);
		}
		if (mrc != 0)
			goto mdb_fail;
		a->res->put++;
		blstore_plens_note(&plens[e->list], im->pool + e->koff, e->klen);
		if ((rc = blstore_filt_note(filt[e->list], im->pool + e->koff, e->klen,
					    im->pool + e->voff, e->vlen)) != 0)
			goto fail_db;
		if (a->o->progress && (i & 0xFFFF) == 0 && elapsed(&a->t0) >= last_report) {
			fprintf(stderr, "\rmxdns bl: %zu/%zu entries written (%.0f%%)", i, im->n,
				100.0 * (double)i / (double)im->n);
			last_report = elapsed(&a->t0) + 1.0;
		}
	}
	if (a->o->progress && last_report > 1.0)
		fprintf(stderr, "\rmxdns bl: %zu/%zu entries written, committing\n", im->n, im->n);
	if (a->o->mode == BLAPPLY_PUT)
		for (size_t i = 0; i < im->n_lists; i++)
			if ((rc = blstore_plens_merge(txn, s, ids[i], &plens[i])) != 0 ||
			    (rc = blstore_filt_merge(txn, s, ids[i], filt[i])) != 0)
				goto fail_db;
	for (size_t i = 0; i < im->n_lists; i++)
		if ((rc = blstore_fast_rebuild(txn, s, ids[i], touched[i])) != 0)
			goto fail_db;

	if (!a->o->force && a->o->mode == BLAPPLY_PUT) {
		for (int t = 0; t < 2; t++) {
			if (im->addrs[t] > a->o->max_addrs[t]) {
				snprintf(a->err, a->errlen,
					 "refused: this change lists %.0f %s addresses, over the "
					 "budget of %.0f (--max-addresses, or --force)",
					 im->addrs[t], t ? "IPv6" : "IPv4", a->o->max_addrs[t]);
				rc = MX_EREFUSED;
				goto fail;
			}
		}
	}
	if (!a->o->force) {
		for (size_t i = 0; i < im->n_lists; i++) {
			int after;
			if ((rc = blstore_list_get(txn, s, im->lists[i], &l)) != 0 ||
			    (rc = test_points(c, l.id, &after)) != 0)
				goto fail_db;
			const char *why = NULL;
			/* Only what this change causes: an old mistake does not
			 * block every later change. */
			int added = after & ~before[i];
			if (added & 1)
				why = "it would list 127.0.0.1";
			else if (added & 4)
				why = "it would list ::FFFF:7F00:1";
			else if (added & 16)
				why = "it would list INVALID";
			else if ((before[i] & 2) && !(after & 2))
				why = "it would drop the 127.0.0.2 test point";
			else if ((before[i] & 8) && !(after & 8))
				why = "it would drop the ::FFFF:7F00:2 test point";
			else if ((before[i] & 32) && !(after & 32))
				why = "it would drop the TEST test point";
			if (why) {
				snprintf(a->err, a->errlen,
					 "refused: %s in list '%s' (RFC 5782 §5; --force to override)",
					 why, im->lists[i]);
				rc = MX_EREFUSED;
				goto fail;
			}
		}
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < im->n_lists; i++)
		blfilt_free(filt[i]);
	free(vbuf);
	return 0;

mdb_fail:
	rc = blstore_err(mrc);
	if (rc != MX_ELIMIT)
		snprintf(a->err, a->errlen, "%s: %s", s->path, mdb_strerror(mrc));
	goto fail;
fail_db:
	if (rc != MX_ELIMIT)
		snprintf(a->err, a->errlen, "%s: %s", s->path, mx_strerror(rc));
fail:
	if (c)
		mdb_cursor_close(c);
	for (size_t i = 0; i < im->n_lists; i++)
		blfilt_free(filt[i]);
	free(vbuf);
	return rc;
}

int blimport_apply(struct blstore *s, const struct blimport *im, const struct blapply_opts *o,
		   struct blapply_result *res, char *err, size_t errlen)
{
	struct apply_ctx a = {s, im, o, res, err, errlen, {0, 0}};
	clock_gettime(CLOCK_MONOTONIC, &a.t0);
	/* Grow the map up front for a big batch: a full map found half-way
	 * means writing the whole batch again. Pages are at most half full
	 * after splits, plus the old pages a replace frees only at commit. */
	MDB_envinfo info;
	MDB_stat st;
	if (o->mode == BLAPPLY_PUT && !getenv("MXDNS_BLSTORE_MAPSIZE") && /* tests: retry path */
	    mdb_env_info(s->env, &info) == 0 &&
	    mdb_env_stat(s->env, &st) == 0) {
		size_t used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
		size_t need = used * (o->replace ? 2 : 1) + 3 * (im->pool_len + im->n * 16) + (1 << 20);
		if (need > info.me_mapsize)
			mdb_env_set_mapsize(s->env, need);
	}
	int rc = blstore_write(s, apply_txn, &a, err, errlen);
	res->seconds = elapsed(&a.t0);
	return rc;
}

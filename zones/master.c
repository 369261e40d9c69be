/* master: an RFC 1035 §5 master-file reader with a fast path for the
 * common types and ldns for the rest. */
#include "master.h"

#include "errcode.h"
#include "zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TOKENS 1024
#define RDATA_MAX 65535

struct token {
	const char *s;
	size_t len;
	int quoted;
};

/* One source being read: a file or a text, with its own $ORIGIN/$TTL
 * (RFC 1035 §5.1: an include does not change the includer's). */
struct source {
	const char *name;
	const char *buf;
	size_t len, pos;
	/* A file is read in pieces into own (cap bytes) from fd; eof once the
	 * last piece is in. A text is all there: fd -1, eof 1. */
	int fd;
	int eof;
	char *own;
	size_t cap;
	int line;
	uint8_t origin[NAME_MAXLEN];
	size_t origin_len;
	uint32_t default_ttl;
	int have_default_ttl;
	uint32_t last_ttl;
	uint8_t owner[NAME_MAXLEN]; /* previous owner, for blank-owner lines */
	size_t owner_len;
	uint16_t last_class;
	int depth;
	const char *stack[MASTER_INCLUDE_DEPTH + 1];
};

static int fail(struct master_reader *r, const struct source *s, int line, int code, const char *fmt,
		...) __attribute__((format(printf, 5, 6)));

static int fail(struct master_reader *r, const struct source *s, int line, int code, const char *fmt,
		...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "%s:%d: ", s->name, line);
	if (n < 0 || (size_t)n >= r->errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- tokens ----------------------------------------------------------- */

/* What ends an unquoted token (1), or escapes inside one (2): a table, so
 * a token is one test per byte. */
static const uint8_t plain_class[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1,
					 [';'] = 1, ['('] = 1,  [')'] = 1,  ['"'] = 1,
					 ['\\'] = 2};

/* Reads the tokens of one entry (an entry spans lines inside parentheses).
 * Returns the number of tokens, 0 at the end, or -1 on a syntax error
 * (message in *why). *blank_owner: the entry starts with white space. */
static int read_entry(struct source *s, struct token *t, int *blank_owner, int *first_line,
		      const char **why)
{
	/* Locals, not s->pos: with -fno-strict-aliasing any byte read from
	 * the buffer might be part of s->pos, which kept it in memory. */
	const char *b = s->buf;
	size_t p = s->pos, len = s->len;
	int line = s->line, n = 0, depth = 0;
	for (;;) {
		if (p >= len) {
			if (depth) {
				*why = "end of file inside parentheses";
				n = -1;
			}
			break;
		}
		char c = b[p];
		if (c == '\n') {
			p++;
			line++;
			if (depth == 0 && n > 0)
				break;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			if (n == 0 && depth == 0 && (p == 0 || b[p - 1] == '\n'))
				*blank_owner = 1;
			p++;
			continue;
		}
		if (n == 0 && depth == 0 && (p == 0 || b[p - 1] == '\n'))
			*blank_owner = 0;
		if (c == ';') {
			while (p < len && b[p] != '\n')
				p++;
			continue;
		}
		if (c == '(') {
			depth++;
			p++;
			continue;
		}
		if (c == ')') {
			if (--depth < 0) {
				*why = "')' without '('";
				n = -1;
				break;
			}
			p++;
			continue;
		}
		if (n == MAX_TOKENS) {
			*why = "too many fields in one record";
			n = -1;
			break;
		}
		if (n == 0)
			*first_line = line;
		if (c == '"') {
			size_t start = ++p;
			for (;;) {
				/* Strings are long (DKIM keys): memchr for the quote,
				 * then for an escape and newlines before it. */
				const char *q = memchr(b + p, '"', len - p);
				size_t end = q ? (size_t)(q - b) : len;
				const char *e = memchr(b + p, '\\', end - p);
				size_t stop = e ? (size_t)(e - b) : end;
				for (const char *nl; (nl = memchr(b + p, '\n', stop - p)) != NULL;
				     p = (size_t)(nl - b) + 1)
					line++;
				p = stop;
				if (!e)
					break;
				/* An escape takes the next byte, which may be a newline
				 * or a quote. */
				if (p + 1 < len)
					p++;
				if (b[p] == '\n')
					line++;
				p++;
			}
			if (p >= len) {
				*why = "unterminated quoted string";
				n = -1;
				break;
			}
			t[n++] = (struct token){b + start, p - start, 1};
			p++;
			continue;
		}
		size_t start = p;
		for (;;) {
			while (p < len && !plain_class[(uint8_t)b[p]])
				p++;
			if (p >= len || plain_class[(uint8_t)b[p]] == 1)
				break;
			/* A backslash escapes the next byte, unless that ends the line. */
			p += p + 1 < len && b[p + 1] != '\n' ? 2 : 1;
		}
		t[n++] = (struct token){b + start, p - start, 0};
	}
	s->pos = p;
	s->line = line;
	return n;
}

static int tok_eq(const struct token *t, const char *word)
{
	return !t->quoted && strlen(word) == t->len && strncasecmp(t->s, word, t->len) == 0;
}

/* A TTL: seconds, or BIND units (1w2d3h4m5s). */
static int parse_ttl(const struct token *t, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	int digits = 0, units = 0;
	if (t->quoted || t->len == 0 || !isdigit((unsigned char)t->s[0]))
		return -1;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];
		if (isdigit((unsigned char)c)) {
			cur = cur * 10 + (uint64_t)(c - '0');
			digits++;
			if (cur > UINT32_MAX)
				return -1;
			continue;
		}
		uint64_t mul;
		switch (tolower((unsigned char)c)) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return -1;
		}
		if (!digits)
			return -1;
		total += cur * mul;
		cur = 0;
		digits = 0;
		units++;
	}
	if (digits && units)
		return -1; /* "1h30": a number after units needs its unit */
	total += cur;
	if (total > 0x7FFFFFFF) /* RFC 2181 §8 */
		return -1;
	*out = (uint32_t)total;
	return 0;
}

/* ASCII case folding of one byte compared with a lowercase letter. */
static int is_letter(char c, char lower)
{
	return (char)(c | 0x20) == lower;
}

static int parse_class(const struct token *t, uint16_t *out)
{
	if (t->quoted)
		return -1;
	/* Asked of most type fields too (a class is optional): two bytes
	 * settle it without a string compare. */
	if (t->len == 2 && is_letter(t->s[0], 'i') && is_letter(t->s[1], 'n'))
		*out = CLASS_IN;
	else if (t->len == 2 && is_letter(t->s[0], 'c') && is_letter(t->s[1], 'h'))
		*out = CLASS_CH;
	else if (t->len == 2 && is_letter(t->s[0], 'h') && is_letter(t->s[1], 's'))
		*out = 4;
	else if (t->len > 5 && strncasecmp(t->s, "CLASS", 5) == 0 && isdigit((unsigned char)t->s[5])) {
		unsigned long v = strtoul(t->s + 5, NULL, 10);
		if (v > 65535)
			return -1;
		*out = (uint16_t)v;
	} else {
		return -1;
	}
	return 0;
}

static int parse_type(const struct token *t, uint16_t *out)
{
	char buf[32];
	if (t->quoted || t->len == 0 || t->len >= sizeof(buf))
		return -1;
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	if (strncasecmp(buf, "TYPE", 4) == 0 && isdigit((unsigned char)buf[4])) {
		char *end;
		unsigned long v = strtoul(buf + 4, &end, 10);
		if (*end || v > 65535)
			return -1;
		*out = (uint16_t)v;
		return 0;
	}
	/* The common types without ldns's search of its whole table. */
	static const struct {
		const char *name;
		size_t len;
		uint16_t type;
	} common[] = {{"A", 1, RR_A},	  {"NS", 2, RR_NS},	  {"MX", 2, RR_MX},
		      {"TXT", 3, RR_TXT},	  {"AAAA", 4, RR_AAAA}, {"CNAME", 5, RR_CNAME},
		      {"SOA", 3, RR_SOA},	  {"PTR", 3, RR_PTR},	  {"SRV", 3, RR_SRV},
		      {"TLSA", 4, RR_TLSA}, {"CAA", 3, RR_CAA},	  {"DS", 2, RR_DS}};
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (common[i].len == t->len && strcasecmp(buf, common[i].name) == 0) {
			*out = common[i].type;
			return 0;
		}
	ldns_rr_type type = ldns_get_rr_type_by_name(buf);
	if (type == 0)
		return -1;
	*out = (uint16_t)type;
	return 0;
}

/* A domain name token: "@", absolute "a.b.", or relative to the origin. */
static int parse_name(const struct source *s, const struct token *t, uint8_t out[NAME_MAXLEN])
{
	char buf[NAME_MAXLEN * 4 + 2];
	if (t->quoted || t->len == 0 || t->len >= sizeof(buf))
		return -1;
	if (t->len == 1 && t->s[0] == '@') {
		memcpy(out, s->origin, s->origin_len);
		return (int)s->origin_len;
	}
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	/* Absolute when it ends in a dot that is not escaped. */
	size_t bs = 0;
	for (size_t i = t->len - 1; i > 0 && buf[i - 1] == '\\'; i--)
		bs++;
	int absolute = buf[t->len - 1] == '.' && bs % 2 == 0;
	int n = name_from_text(buf, out);
	if (n < 0)
		return -1;
	if (absolute)
		return n;
	if ((size_t)n - 1 + s->origin_len > NAME_MAXLEN)
		return -1;
	memcpy(out + n - 1, s->origin, s->origin_len);
	return n - 1 + (int)s->origin_len;
}

/* A character-string (RFC 1035 §5.1): escapes resolved, at most 255 bytes. */
static int parse_string(const struct token *t, uint8_t *out)
{
	size_t o = 0;
	if (!memchr(t->s, '\\', t->len)) { /* most strings: copied as they are */
		if (t->len > 255)
			return -1;
		memcpy(out + 1, t->s, t->len);
		out[0] = (uint8_t)t->len;
		return (int)t->len + 1;
	}
	for (size_t i = 0; i < t->len; i++) {
		int c = (unsigned char)t->s[i];
		if (c == '\\' && i + 1 < t->len) {
			if (i + 3 < t->len && isdigit((unsigned char)t->s[i + 1]) &&
			    isdigit((unsigned char)t->s[i + 2]) && isdigit((unsigned char)t->s[i + 3])) {
				c = (t->s[i + 1] - '0') * 100 + (t->s[i + 2] - '0') * 10 + (t->s[i + 3] - '0');
				if (c > 255)
					return -1;
				i += 3;
			} else {
				c = (unsigned char)t->s[++i];
			}
		}
		if (o == 255)
			return -1;
		out[1 + o++] = (uint8_t)c;
	}
	out[0] = (uint8_t)o;
	return (int)o + 1;
}

/* ---- records ---------------------------------------------------------- */

static int put_u16(uint8_t *w, size_t *o, const struct token *t)
{
	char *end;
	char buf[8];
	if (t->quoted || t->len == 0 || t->len >= sizeof(buf))
		return -1;
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (*end || v > 65535 || !isdigit((unsigned char)buf[0]))
		return -1;
	w[(*o)++] = (uint8_t)(v >> 8);
	w[(*o)++] = (uint8_t)v;
	return 0;
}

/* A decimal 0..255 field; -1 for anything else (mnemonics are ldns's). */
static int put_u8(uint8_t *w, size_t *o, const struct token *t)
{
	unsigned v = 0;
	if (t->quoted || t->len == 0 || t->len > 3)
		return -1;
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	if (v > 255)
		return -1;
	w[(*o)++] = (uint8_t)v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex over one or more fields (as ldns joins them) into w at *o: 0, or
 * -1 when a field is not plain hex or the digits are odd in number. */
static int put_hex(uint8_t *w, size_t *o, const struct token *t, int n)
{
	int high = -1;
	for (int i = 0; i < n; i++) {
		if (t[i].quoted)
			return -1;
		for (size_t k = 0; k < t[i].len; k++) {
			int d = hex_digit(t[i].s[k]);
			if (d < 0)
				return -1;
			if (high < 0) {
				high = d;
				continue;
			}
			if (*o >= RDATA_MAX)
				return -1;
			w[(*o)++] = (uint8_t)(high << 4 | d);
			high = -1;
		}
	}
	return high < 0 ? 0 : -1;
}

static int base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 (RFC 4648 §4, padded to whole quads) over one or more fields, as
 * a long key is written across lines, into w at *o: 0, or -1 when it is
 * not base64. */
static int put_base64(uint8_t *w, size_t *o, const struct token *t, int n)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t chars = 0;
	for (int i = 0; i < n; i++) {
		if (t[i].quoted)
			return -1;
		for (size_t k = 0; k < t[i].len; k++, chars++) {
			if (t[i].s[k] == '=') {
				pad++;
				continue;
			}
			int v = base64_value((unsigned char)t[i].s[k]);
			if (v < 0 || pad)
				return -1;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (*o >= RDATA_MAX)
					return -1;
				w[(*o)++] = (uint8_t)(acc >> bits);
			}
		}
	}
	/* A last quad of two or three characters leaves 4 or 2 bits over,
	 * and is padded with two or one '='. */
	return chars % 4 == 0 && pad == bits / 2 ? 0 : -1;
}

static int put_name(const struct source *s, struct master_rr *rr, uint8_t *w, size_t *o,
		    const struct token *t)
{
	int n = parse_name(s, t, w + *o);
	if (n < 0)
		return -1;
	rr->name_off[rr->n_names++] = (uint16_t)*o;
	*o += (size_t)n;
	return 0;
}

/* What fast_rdata expects of type, for the error that refuses it. */
static const char *fast_rdata_form(uint16_t type)
{
	switch (type) {
	case RR_A:
		return "an IPv4 address";
	case RR_AAAA:
		return "an IPv6 address";
	case RR_NS:
	case RR_CNAME:
	case RR_PTR:
	case RR_DNAME:
		return "one domain name";
	case RR_MX:
		return "a preference (0-65535) and a mail exchanger's name";
	case RR_SRV:
		return "priority, weight, port (0-65535 each) and a target name";
	case RR_TXT:
		return "one or more strings of at most 255 bytes";
	case RR_IPSECKEY:
		return "precedence, gateway type (0-3), algorithm, gateway ('.' for none, an "
		       "address or a name) and an optional base64 key (RFC 4025 §3.1)";
	default:
		return "its fields";
	}
}

/* rdata for the common types; 1 when the type is not one of them. */
static int fast_rdata(const struct source *s, struct master_rr *rr, const struct token *t, int n,
		      uint8_t *w, size_t *rdlen)
{
	size_t o = 0;
	char buf[64];
	switch (rr->type) {
	case RR_A:
	case RR_AAAA:
		if (n != 1 || t[0].quoted || t[0].len >= sizeof(buf))
			return -1;
		memcpy(buf, t[0].s, t[0].len);
		buf[t[0].len] = 0;
		if (inet_pton(rr->type == RR_A ? AF_INET : AF_INET6, buf, w) != 1)
			return -1;
		o = rr->type == RR_A ? 4 : 16;
		break;
	case RR_NS:
	case RR_CNAME:
	case RR_PTR:
	case RR_DNAME:
		if (n != 1 || put_name(s, rr, w, &o, &t[0]) != 0)
			return -1;
		break;
	case RR_MX:
		if (n != 2 || put_u16(w, &o, &t[0]) != 0 || put_name(s, rr, w, &o, &t[1]) != 0)
			return -1;
		break;
	case RR_SRV:
		if (n != 4 || put_u16(w, &o, &t[0]) != 0 || put_u16(w, &o, &t[1]) != 0 ||
		    put_u16(w, &o, &t[2]) != 0 || put_name(s, rr, w, &o, &t[3]) != 0)
			return -1;
		break;
	case RR_TXT:
		if (n < 1)
			return -1;
		for (int i = 0; i < n; i++) {
			if (o + 256 > RDATA_MAX)
				return -1;
			int k = parse_string(&t[i], w + o);
			if (k < 0)
				return -1;
			o += (size_t)k;
		}
		break;
	case RR_IPSECKEY:
		/* RFC 4025 §3.1: precedence, gateway type, algorithm, the
		 * gateway ("." for none; a name is not compressed, so not
		 * recorded), then the optional key in base64. Read here: ldns
		 * 1.8.3 leaks what it made when the key is not base64 or a
		 * field is one too many. */
		if (n < 4 || put_u8(w, &o, &t[0]) != 0 || put_u8(w, &o, &t[1]) != 0 ||
		    put_u8(w, &o, &t[2]) != 0 || t[3].quoted)
			return -1;
		if (w[1] == 0) {
			if (t[3].len != 1 || t[3].s[0] != '.')
				return -1;
		} else if (w[1] == 1 || w[1] == 2) {
			if (t[3].len >= sizeof(buf))
				return -1;
			memcpy(buf, t[3].s, t[3].len);
			buf[t[3].len] = 0;
			if (inet_pton(w[1] == 1 ? AF_INET : AF_INET6, buf, w + o) != 1)
				return -1;
			o += w[1] == 1 ? 4 : 16;
		} else if (w[1] == 3) {
			int len = parse_name(s, &t[3], w + o);
			if (len < 0)
				return -1;
			o += (size_t)len;
		} else {
			return -1;
		}
		if (put_base64(w, &o, t + 4, n - 4) != 0)
			return -1;
		break;
	case RR_TLSA:
		/* RFC 6698 §2.2: usage, selector, matching type, data. Other
		 * spellings (mnemonics, odd hex) are left to ldns to accept or
		 * refuse, so both read a record the same way. */
		if (n < 4 || put_u8(w, &o, &t[0]) != 0 || put_u8(w, &o, &t[1]) != 0 ||
		    put_u8(w, &o, &t[2]) != 0 || put_hex(w, &o, t + 3, n - 3) != 0 || o == 3)
			return 1;
		break;
	default:
		return 1;
	}
	*rdlen = o;
	return 0;
}

/* Whether the rdata tokens are RFC 3597 generic data ("\# len hex"). */
static int is_generic(const struct token *t, int n)
{
	return n >= 1 && !t[0].quoted && t[0].len == 2 && t[0].s[0] == '\\' && t[0].s[1] == '#';
}

/* Whether rdata w[0..len) reads back as its type's fields, all of it and
 * at least the fields the type requires (RFC 3597 §5: generic data of a
 * known type must be a valid encoding of it; ldns also reads "\#" in
 * place of a single field, leaving that field empty). On success the
 * names inside are recorded in rr, for compression. */
static int rdata_reads_back(ldns_rr_type type, const ldns_rr_descriptor *desc, const uint8_t *w,
			    size_t len, struct master_rr *rr)
{
	uint8_t *wire = malloc(len + 2);
	ldns_rr *chk = ldns_rr_new();
	size_t pos = 0;
	int ok = 0;
	if (!wire || !chk)
		goto done;
	wire[0] = (uint8_t)(len >> 8);
	wire[1] = (uint8_t)len;
	if (len)
		memcpy(wire + 2, w, len);
	ldns_rr_set_type(chk, type);
	if (ldns_wire2rdf(chk, wire, len + 2, &pos) != LDNS_STATUS_OK || pos != len + 2 ||
	    ldns_rr_rd_count(chk) < ldns_rr_descriptor_minimum(desc))
		goto done;
	size_t off = 0;
	rr->n_names = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(chk); i++) {
		const ldns_rdf *f = ldns_rr_rdf(chk, i);
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && rr->n_names < MASTER_MAX_NAMES)
			rr->name_off[rr->n_names++] = (uint16_t)off;
		off += ldns_rdf_size(f);
	}
	ok = off == len;
done:
	ldns_rr_free(chk);
	free(wire);
	return ok;
}

/* Whether t is a CERT type that ldns 1.8.3 reads as the number 0 (RFC
 * 4398 §2.1: reserved). ldns refuses it but leaks the field it had made
 * (str2host.c ldns_str2rdf_cert_alg; ldns_rdf_new_frm_str frees only the
 * struct), so the reader refuses it before ldns sees it. Same reading as
 * ldns: strtol base 10, the whole token, truncated to 16 bits. */
static int cert_type_zero(const struct token *t)
{
	char buf[32], *end;
	if (t->quoted || t->len == 0 || t->len >= sizeof(buf))
		return 0;
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	long v = strtol(buf, &end, 10);
	return *end == 0 && (uint16_t)v == 0;
}

/* Everything else through ldns, from the entry's text rebuilt with an
 * absolute owner and an explicit TTL and class. */
static int ldns_rdata(struct master_reader *r, const struct source *s, struct master_rr *rr,
		      const struct token *type_tok, const struct token *t, int n, uint8_t *w,
		      size_t *rdlen)
{
	size_t cap = 64 + NAME_MAXLEN * 4 + type_tok->len;
	for (int i = 0; i < n; i++)
		cap += t[i].len + 3;
	char *text = malloc(cap);
	ldns_rr *lrr = NULL;
	ldns_rdf *origin = ldns_dname_new_frm_data((uint16_t)s->origin_len, s->origin);
	int rc = -1;
	if (!text || !origin)
		goto done;
	if (rr->type == LDNS_RR_TYPE_CERT && n > 0 && !is_generic(t, n) && cert_type_zero(&t[0])) {
		rc = fail(r, s, rr->line, MX_ESYNTAX,
			  "CERT record: certificate type 0 is reserved (RFC 4398 §2.1)");
		goto done;
	}
	char owner[NAME_MAXLEN * 4 + 2];
	name_to_text(rr->owner, owner, sizeof(owner));
	char klass[16];
	snprintf(klass, sizeof(klass), rr->klass == CLASS_IN ? "IN" : "CLASS%u", rr->klass);
	size_t o = (size_t)snprintf(text, cap, "%s %u %s %.*s", owner, rr->ttl, klass,
				    (int)type_tok->len, type_tok->s);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, cap - o, t[i].quoted ? " \"%.*s\"" : " %.*s",
				      (int)t[i].len, t[i].s);
	ldns_status st = ldns_rr_new_frm_str(&lrr, text, rr->ttl, origin, NULL);
	if (st != LDNS_STATUS_OK) {
		rc = fail(r, s, rr->line, MX_ESYNTAX, "%.*s record: %s", (int)type_tok->len,
			  type_tok->s, ldns_get_errorstr_by_id(st));
		goto done;
	}
	/* ldns can accept text it has not read as the type's fields (a "\#"
	 * where a name belongs drops that field): the rdata would then lack a
	 * name that compiling and answering rely on. Generic \# data is one
	 * field by design. */
	const ldns_rr_descriptor *desc = ldns_rr_descript(ldns_rr_get_type(lrr));
	if (desc && !is_generic(t, n)) {
		size_t count = ldns_rr_rd_count(lrr);
		int bad = count < ldns_rr_descriptor_minimum(desc);
		/* ldns asserts on an index past a fixed-size type's fields. */
		size_t max = ldns_rr_descriptor_maximum(desc);
		for (size_t i = 0; !bad && i < count && i < max; i++)
			bad = ldns_rr_descriptor_field_type(desc, i) == LDNS_RDF_TYPE_DNAME &&
			      ldns_rdf_get_type(ldns_rr_rdf(lrr, i)) != LDNS_RDF_TYPE_DNAME;
		if (bad) {
			rc = fail(r, s, rr->line, MX_ESYNTAX,
				  "%.*s record: its fields do not read as the type's (a name is missing or not a name)",
				  (int)type_tok->len, type_tok->s);
			goto done;
		}
	}
	size_t len = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(lrr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(lrr, i);
		size_t fl = ldns_rdf_size(f);
		if (len + fl > RDATA_MAX) {
			rc = fail(r, s, rr->line, MX_ESYNTAX, "rdata longer than 65535 bytes");
			goto done;
		}
		if (fl) /* an empty field's data may be NULL */
			memcpy(w + len, ldns_rdf_data(f), fl);
		len += fl;
	}
	/* Types ldns does not know (and NULL, any bytes) are one opaque field
	 * with no names in it. */
	if (desc && ldns_rr_get_type(lrr) != LDNS_RR_TYPE_NULL &&
	    !rdata_reads_back(ldns_rr_get_type(lrr), desc, w, len, rr)) {
		rc = fail(r, s, rr->line, MX_ESYNTAX,
			  "%.*s record: its data is not a valid %.*s: write its fields, or \\# data "
			  "that encodes all of them (RFC 3597 §5)",
			  (int)type_tok->len, type_tok->s, (int)type_tok->len, type_tok->s);
		goto done;
	}
	*rdlen = len;
	rc = 0;
done:
	ldns_rr_free(lrr);
	ldns_rdf_deep_free(origin);
	free(text);
	return rc;
}

static int read_source(struct master_reader *r, struct source *s);

static int add_file(struct master_reader *r, const char *path, const char **kept)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i], path) == 0) {
			*kept = r->files[i];
			return 0;
		}
	char **nf = realloc(r->files, (r->n_files + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	r->files = nf;
	if (!(nf[r->n_files] = strdup(path)))
		return -ENOMEM;
	*kept = nf[r->n_files++];
	return 0;
}

/* A quarter megabyte at a time: the buffer stays in cache, where reading
 * the whole file at once cost a fresh page per 4 KiB of it. */
#define SOURCE_CHUNK ((size_t)256 << 10)

/* Opens a file for reading in pieces; on success close it with
 * source_close. */
static int source_open(struct source *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return e;
	}
	if (!(s->own = malloc(SOURCE_CHUNK))) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->eof = 0;
	s->cap = SOURCE_CHUNK;
	s->buf = s->own;
	s->len = s->pos = 0;
	return 0;
}

static void source_close(struct source *s)
{
	close(s->fd);
	free(s->own);
	s->fd = -1;
	s->own = NULL;
}

/* Moves buf[pos..len) (the entry being read) to the front and reads more
 * after it; a buffer that one entry fills is doubled. */
static int source_refill(struct source *s)
{
	memmove(s->own, s->own + s->pos, s->len - s->pos);
	s->len -= s->pos;
	s->pos = 0;
	if (s->len == s->cap) {
		char *nb = s->cap <= SIZE_MAX / 2 ? realloc(s->own, s->cap * 2) : NULL;
		if (!nb)
			return -ENOMEM;
		s->own = nb;
		s->buf = nb;
		s->cap *= 2;
	}
	ssize_t k;
	do
		k = read(s->fd, s->own + s->len, s->cap - s->len);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if (k == 0)
		s->eof = 1;
	s->len += (size_t)k;
	return 0;
}

/* read_entry over a file read in pieces. An entry that reaches the end of
 * the buffer before the end of the file is read again with more data; one
 * that ends inside the buffer is whole, since read_entry looks at most one
 * byte past where it stops. Entries start at the start of a line, so the
 * blank-owner test reads the same after the move. Returns as read_entry,
 * or -2 with *err set when the file cannot be read. */
static int next_entry(struct source *s, struct token *t, int *blank_owner, int *first_line,
		      const char **why, int *err)
{
	for (;;) {
		size_t start = s->pos;
		int line = s->line;
		*blank_owner = 0;
		int n = read_entry(s, t, blank_owner, first_line, why);
		if (s->eof || s->pos < s->len)
			return n;
		s->pos = start;
		s->line = line;
		if ((*err = source_refill(s)) != 0)
			return -2;
	}
}

static int include(struct master_reader *r, struct source *s, const struct token *t, int n, int line)
{
	char name[PATH_MAX], path[PATH_MAX];
	struct source inc = {0};
	int rc;

	if (!r->allow_include)
		return fail(r, s, line, MX_ESYNTAX, "$INCLUDE is not allowed here");
	if (n < 2 || n > 3 || t[1].len >= sizeof(name))
		return fail(r, s, line, MX_ESYNTAX, "$INCLUDE takes a file name and an optional origin");
	memcpy(name, t[1].s, t[1].len);
	name[t[1].len] = 0;
	/* A relative path is taken from the including file's directory. */
	const char *slash = strrchr(s->name, '/');
	int w = name[0] == '/' || !slash
			? snprintf(path, sizeof(path), "%s", name)
			: snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - s->name), s->name, name);
	if (w < 0 || (size_t)w >= sizeof(path))
		return fail(r, s, line, MX_ESYNTAX, "$INCLUDE path too long");
	if (s->depth >= MASTER_INCLUDE_DEPTH)
		return fail(r, s, line, MX_ELIMIT, "$INCLUDE nested deeper than %d",
			    MASTER_INCLUDE_DEPTH);
	for (int i = 0; i <= s->depth; i++)
		if (s->stack[i] && strcmp(s->stack[i], path) == 0)
			return fail(r, s, line, MX_ELIMIT, "$INCLUDE loop: %s includes itself", path);
	inc = *s;
	if (n == 3) {
		int len = parse_name(s, &t[2], inc.origin);
		if (len < 0)
			return fail(r, s, line, MX_ESYNTAX, "bad origin in $INCLUDE");
		inc.origin_len = (size_t)len;
	}
	if ((rc = source_open(&inc, path)) != 0)
		return fail(r, s, line, rc, "cannot read $INCLUDE file %s: %s", path,
			    rc == -EINVAL ? "not a regular file" : strerror(-rc));
	if ((rc = add_file(r, path, &inc.name)) != 0) {
		source_close(&inc);
		return rc;
	}
	inc.line = 1;
	inc.depth = s->depth + 1;
	inc.stack[inc.depth] = inc.name;
	memcpy(inc.owner, inc.origin, inc.origin_len);
	inc.owner_len = inc.origin_len;
	rc = read_source(r, &inc);
	source_close(&inc);
	return rc;
}

static int directive(struct master_reader *r, struct source *s, const struct token *t, int n, int line)
{
	if (tok_eq(&t[0], "$ORIGIN")) {
		/* A relative $ORIGIN is read against the old one: not in place. */
		uint8_t origin[NAME_MAXLEN];
		int len = n == 2 ? parse_name(s, &t[1], origin) : -1;
		if (len < 0)
			return fail(r, s, line, MX_ESYNTAX, "$ORIGIN takes one domain name");
		memcpy(s->origin, origin, (size_t)len);
		s->origin_len = (size_t)len;
		return 0;
	}
	if (tok_eq(&t[0], "$TTL")) {
		if (n != 2 || parse_ttl(&t[1], &s->default_ttl) != 0)
			return fail(r, s, line, MX_ESYNTAX, "$TTL takes one TTL (seconds or 1h30m form)");
		s->have_default_ttl = 1;
		return 0;
	}
	if (tok_eq(&t[0], "$INCLUDE"))
		return include(r, s, t, n, line);
	return fail(r, s, line, MX_ESYNTAX, "unknown directive %.*s", (int)t[0].len, t[0].s);
}

static int read_source(struct master_reader *r, struct source *s)
{
	struct token *t = malloc(MAX_TOKENS * sizeof(*t));
	uint8_t *rdata = malloc(RDATA_MAX + NAME_MAXLEN);
	int rc = 0;
	if (!t || !rdata) {
		rc = -ENOMEM;
		goto done;
	}
	for (;;) {
		int blank = 0, line = s->line;
		const char *why = NULL;
		int err = 0;
		int n = next_entry(s, t, &blank, &line, &why, &err);
		if (n == -2) {
			rc = fail(r, s, s->line, err, "cannot read: %s", strerror(-err));
			goto done;
		}
		if (n < 0) {
			rc = fail(r, s, s->line, MX_ESYNTAX, "%s", why);
			goto done;
		}
		if (n == 0)
			break;
		if (!blank && t[0].len > 0 && t[0].s[0] == '$' && !t[0].quoted) {
			if ((rc = directive(r, s, t, n, line)) != 0)
				goto done;
			continue;
		}
		struct master_rr rr = {.file = s->name, .line = line, .klass = s->last_class};
		int i = 0;
		uint8_t owner[NAME_MAXLEN];
		if (blank) {
			memcpy(owner, s->owner, s->owner_len);
			rr.owner_len = s->owner_len;
		} else {
			int len = parse_name(s, &t[0], owner);
			if (len < 0) {
				rc = fail(r, s, line, MX_ESYNTAX, "bad owner name '%.*s'", (int)t[0].len,
					  t[0].s);
				goto done;
			}
			rr.owner_len = (size_t)len;
			memcpy(s->owner, owner, rr.owner_len);
			s->owner_len = rr.owner_len;
			i = 1;
		}
		rr.owner = owner;
		/* [TTL] [class] or [class] [TTL], then the type. */
		int have_ttl = 0;
		for (int k = 0; k < 2 && i < n; k++) {
			if (!have_ttl && parse_ttl(&t[i], &rr.ttl) == 0) {
				have_ttl = 1;
				i++;
			} else if (parse_class(&t[i], &rr.klass) == 0) {
				i++;
			}
		}
		if (i >= n || parse_type(&t[i], &rr.type) != 0) {
			if (i >= n)
				rc = fail(r, s, line, MX_ESYNTAX, "record without a type");
			else
				rc = fail(r, s, line, MX_ESYNTAX, "unknown type '%.*s'", (int)t[i].len,
					  t[i].s);
			goto done;
		}
		if (!have_ttl) {
			/* RFC 2308 §4: $TTL; before it, RFC 1035's last TTL. */
			rr.ttl = s->have_default_ttl ? s->default_ttl : s->last_ttl;
		}
		s->last_ttl = rr.ttl;
		s->last_class = rr.klass;
		const struct token *type_tok = &t[i++];
		size_t rdlen = 0;
		/* RFC 3597 \# data: ldns reads it. */
		int fast = is_generic(t + i, n - i) ? 1 : fast_rdata(s, &rr, t + i, n - i, rdata, &rdlen);
		if (fast < 0) {
			rc = fail(r, s, line, MX_ESYNTAX, "bad %.*s record data: write %s",
				  (int)type_tok->len, type_tok->s, fast_rdata_form(rr.type));
			goto done;
		}
		if (fast == 1) {
			rr.n_names = 0;
			if ((rc = ldns_rdata(r, s, &rr, type_tok, t + i, n - i, rdata, &rdlen)) != 0) {
				if (rc == -1)
					rc = -ENOMEM;
				goto done;
			}
		}
		rr.rdata = rdata;
		rr.rdlen = rdlen;
		if ((rc = r->fn(r->arg, &rr)) != 0)
			goto done;
	}
done:
	free(t);
	free(rdata);
	return rc;
}

static int start(struct master_reader *r, struct source *s, const char *name, const uint8_t *origin)
{
	s->name = name;
	s->line = 1;
	s->origin_len = name_len(origin);
	memcpy(s->origin, origin, s->origin_len);
	memcpy(s->owner, origin, s->origin_len);
	s->owner_len = s->origin_len;
	s->last_ttl = 3600;
	s->last_class = CLASS_IN;
	s->stack[0] = name;
	return read_source(r, s);
}

int master_read_file(struct master_reader *r, const char *file, const uint8_t *origin)
{
	struct source s = {0};
	const char *kept;
	int rc = source_open(&s, file);
	if (rc != 0) {
		snprintf(r->err, r->errlen, "%s: cannot read: %s", file,
			 rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return rc;
	}
	r->allow_include = 1;
	if ((rc = add_file(r, file, &kept)) == 0)
		rc = start(r, &s, kept, origin);
	source_close(&s);
	return rc;
}

int master_read_text(struct master_reader *r, const char *text, size_t len, const char *label,
		     const uint8_t *origin)
{
	struct source s = {.buf = text, .len = len, .fd = -1, .eof = 1};
	r->allow_include = 0;
	return start(r, &s, label, origin);
}

void master_cleanup(struct master_reader *r)
{
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i]);
	free(r->files);
	r->files = NULL;
	r->n_files = 0;
}

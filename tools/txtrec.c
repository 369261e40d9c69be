/* txtrec: splitting TXT values into character-strings, joining them back,
 * and parsing tag=value lists. See txtrec.h. */
#include "txtrec.h"

#include "errcode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t txtrec_count(size_t len)
{
	if (len == 0)
		return 1;
	return (len + TXTREC_STRING_MAX - 1) / TXTREC_STRING_MAX;
}

/* Appends one value byte in presentation form; returns the new position
 * or cap when it does not fit (the caller checks once per string). */
static size_t put_byte(char *out, size_t pos, size_t cap, unsigned char c)
{
	if (c == '"' || c == '\\') {
		if (pos + 2 >= cap)
			return cap;
		out[pos++] = '\\';
		out[pos++] = (char)c;
	} else if (c < 0x20 || c > 0x7e) {
		if (pos + 4 >= cap)
			return cap;
		snprintf(out + pos, 5, "\\%03u", c);
		pos += 4;
	} else {
		if (pos + 1 >= cap)
			return cap;
		out[pos++] = (char)c;
	}
	return pos;
}

int txtrec_format(const char *value, size_t len, const char *sep, char *out, size_t cap)
{
	size_t pos = 0, seplen = strlen(sep);
	size_t n = txtrec_count(len);

	if (cap == 0)
		return MX_ESPACE;
	for (size_t i = 0; i < n; i++) {
		size_t start = i * TXTREC_STRING_MAX;
		size_t end = start + TXTREC_STRING_MAX < len ? start + TXTREC_STRING_MAX : len;

		if (i > 0) {
			if (pos + seplen >= cap)
				goto fail;
			memcpy(out + pos, sep, seplen);
			pos += seplen;
		}
		if (pos + 1 >= cap)
			goto fail;
		out[pos++] = '"';
		for (size_t j = start; j < end; j++) {
			pos = put_byte(out, pos, cap, (unsigned char)value[j]);
			if (pos >= cap)
				goto fail;
		}
		if (pos + 1 >= cap)
			goto fail;
		out[pos++] = '"';
	}
	out[pos] = '\0';
	return (int)pos;
fail:
	out[0] = '\0';
	return MX_ESPACE;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int txtrec_join(const char *text, char *out, size_t cap, size_t *outlen)
{
	const char *p = text;
	size_t pos = 0;
	int paren = 0, ret = MX_ESYNTAX;

	if (cap == 0)
		return MX_ESPACE;
	while (is_space(*p))
		p++;
	if (*p != '"' && *p != '(') {
		/* Not presentation format: the text is the value itself. */
		size_t n = strlen(text);
		if (n >= cap)
			return MX_ESPACE;
		memcpy(out, text, n + 1);
		*outlen = n;
		return 0;
	}
	if (*p == '(') {
		paren = 1;
		p++;
	}
	for (;;) {
		size_t strlen_bytes = 0;

		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == ')' && paren == 1) {
			paren = 2;
			p++;
			continue;
		}
		if (*p != '"' || paren == 2)
			goto fail;
		p++;
		while (*p != '"') {
			unsigned char c;

			if (*p == '\0')
				goto fail;
			if (*p == '\\') {
				p++;
				if (p[0] >= '0' && p[0] <= '9') {
					unsigned v;
					if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
						goto fail;
					v = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
					    (unsigned)(p[2] - '0');
					if (v > 255)
						goto fail;
					c = (unsigned char)v;
					p += 3;
				} else if (*p == '\0') {
					goto fail;
				} else {
					c = (unsigned char)*p++;
				}
			} else {
				c = (unsigned char)*p++;
			}
			if (++strlen_bytes > TXTREC_STRING_MAX)
				goto fail;
			if (pos + 1 >= cap) {
				ret = MX_ESPACE;
				goto fail;
			}
			out[pos++] = (char)c;
		}
		p++;
	}
	if (paren == 1)
		goto fail;
	out[pos] = '\0';
	*outlen = pos;
	return 0;
fail:
	out[0] = '\0';
	*outlen = 0;
	return ret;
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_wsp(unsigned char c)
{
	/* FWS as it can appear in a TXT value: CRLF folding is only whitespace */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_tval(unsigned char c)
{
	return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e);
}

__attribute__((format(printf, 2, 3))) static void set_err(struct txtrec_tags *tags,
							   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tags->err, sizeof(tags->err), fmt, ap);
	va_end(ap);
}

int txtrec_tags_parse(const char *text, size_t len, struct txtrec_tags *tags)
{
	size_t i = 0;
	int ret = MX_ESYNTAX;

	memset(tags, 0, sizeof(*tags));
	while (i < len) {
		struct txtrec_tag *t;
		size_t name_start, name_len, vstart, vend;

		while (i < len && is_wsp((unsigned char)text[i]))
			i++;
		if (i == len) {
			/* only whitespace after the last ';' (or an empty value) */
			if (tags->count == 0) {
				set_err(tags, "empty tag list");
				goto fail;
			}
			break;
		}
		name_start = i;
		if (!is_alpha((unsigned char)text[i])) {
			set_err(tags, "byte %zu: expected a tag name, found '%c'", i,
				is_tval((unsigned char)text[i]) || text[i] == ';' ? text[i] : '?');
			goto fail;
		}
		while (i < len && (is_alpha((unsigned char)text[i]) ||
				   is_digit((unsigned char)text[i]) || text[i] == '_'))
			i++;
		name_len = i - name_start;
		if (name_len > TXTREC_NAME_MAX) {
			set_err(tags, "byte %zu: tag name longer than %d bytes", name_start,
				TXTREC_NAME_MAX);
			goto fail;
		}
		while (i < len && is_wsp((unsigned char)text[i]))
			i++;
		if (i == len || text[i] != '=') {
			set_err(tags, "byte %zu: tag '%.*s' has no '='", name_start, (int)name_len,
				text + name_start);
			goto fail;
		}
		i++;
		while (i < len && is_wsp((unsigned char)text[i]))
			i++;
		vstart = vend = i;
		while (i < len && text[i] != ';') {
			unsigned char c = (unsigned char)text[i];
			if (is_tval(c)) {
				vend = i + 1;
			} else if (!is_wsp(c)) {
				set_err(tags, "byte %zu: byte 0x%02x not allowed in the value of '%.*s'",
					i, c, (int)name_len, text + name_start);
				goto fail;
			}
			i++;
		}
		for (size_t k = 0; k < tags->count; k++) {
			if (strlen(tags->tag[k].name) == name_len &&
			    memcmp(tags->tag[k].name, text + name_start, name_len) == 0) {
				set_err(tags, "byte %zu: tag '%.*s' appears twice (RFC 6376 §3.2)",
					name_start, (int)name_len, text + name_start);
				goto fail;
			}
		}
		if (tags->count == TXTREC_TAGS_MAX) {
			set_err(tags, "more than %d tags", TXTREC_TAGS_MAX);
			ret = MX_ELIMIT;
			goto fail;
		}
		t = &tags->tag[tags->count];
		memcpy(t->name, text + name_start, name_len);
		t->name[name_len] = '\0';
		t->offset = name_start;
		t->value = malloc(vend - vstart + 1);
		if (t->value == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		memcpy(t->value, text + vstart, vend - vstart);
		t->value[vend - vstart] = '\0';
		tags->count++;
		if (i < len)
			i++; /* the ';' */
	}
	if (tags->count == 0) {
		set_err(tags, "empty tag list");
		goto fail;
	}
	return 0;
fail:
	return ret;
}

void txtrec_tags_cleanup(struct txtrec_tags *tags)
{
	for (size_t i = 0; i < tags->count; i++) {
		free(tags->tag[i].value);
		tags->tag[i].value = NULL;
	}
	tags->count = 0;
}

const struct txtrec_tag *txtrec_tags_get(const struct txtrec_tags *tags, const char *name)
{
	for (size_t i = 0; i < tags->count; i++)
		if (strcmp(tags->tag[i].name, name) == 0)
			return &tags->tag[i];
	return NULL;
}

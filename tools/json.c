/* json: streaming writer, see json.h. */
#include "json.h"

#include "errcode.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

/* Called before any value: writes the comma, checks the position. */
static void before_value(struct json *j)
{
	if (j->depth > 0 && j->is_obj[j->depth]) {
		if (!j->want_value)
			j->error = true;
		j->want_value = false;
		return;
	}
	if (j->depth == 0 && !j->first[0])
		j->error = true; /* a second top-level value */
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void begin(struct json *j, bool obj)
{
	before_value(j);
	if (j->depth + 1 >= JSON_DEPTH_MAX) {
		j->error = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
	j->is_obj[j->depth] = obj;
	fputc(obj ? '{' : '[', j->f);
}

static void end(struct json *j, bool obj)
{
	if (j->depth == 0 || j->is_obj[j->depth] != obj || j->want_value) {
		j->error = true;
		return;
	}
	j->depth--;
	fputc(obj ? '}' : ']', j->f);
}

void json_obj_begin(struct json *j)
{
	begin(j, true);
}

void json_obj_end(struct json *j)
{
	end(j, true);
}

void json_arr_begin(struct json *j)
{
	begin(j, false);
}

void json_arr_end(struct json *j)
{
	end(j, false);
}

void json_key(struct json *j, const char *key)
{
	if (j->depth == 0 || !j->is_obj[j->depth] || j->want_value) {
		j->error = true;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	json_write_string(j->f, key, strlen(key));
	fputc(':', j->f);
	j->want_value = true;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_write_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			n = utf8_len(s + i, len - i);
			if (n == 0) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

void json_strn(struct json *j, const char *s, size_t len)
{
	before_value(j);
	json_write_string(j->f, s, len);
}

void json_str(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_int(struct json *j, int64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	before_value(j);
	fputs("null", j->f);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

int json_finish(struct json *j)
{
	if (j->depth != 0 || j->first[0] || j->want_value)
		j->error = true;
	fputc('\n', j->f);
	fflush(j->f);
	return j->error ? MX_EINVAL : 0;
}
